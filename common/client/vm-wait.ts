// Waiting for a VM to reach a state, by watching its znodes (no polling loop): the spec (the
// desired state moves, e.g. restart -> start) and the status (what its node reports). Every watch
// event re-reads both and asks `judge`; the watches are set before the first read, so a change
// between the two is never missed.
import { PvcError } from '../errors.ts';
import { readVmFacts, type VmFacts, type VmTarget } from './vm-read.ts';
import { watchUntil, type Verdict } from './watch-until.ts';

/** A wait longer than this is a mistake in the caller (an hour covers any guest's shutdown). */
export const VM_WAIT_MAX_MS = 3_600_000;

/** What one look at the VM says: done, failed (the error to throw), or not yet (null). */
export type WaitVerdict = { kind: 'done' } | { kind: 'failed'; error: PvcError } | null;

/**
 * Resolves with the facts that `judge` found done; rejects with its error when it says failed,
 * or with a 'timeout' PvcError (`timeoutMessage` of the last facts read) after `waitMs`.
 * `judge` sees null when the VM is gone (and must not call that done).
 */
export function waitForVm(
  target: VmTarget,
  name: string,
  judge: (facts: VmFacts | null) => WaitVerdict,
  waitMs: number,
  timeoutMessage: (last: VmFacts | null) => string,
): Promise<VmFacts> {
  const { store, layout } = target;
  return watchUntil({
    store,
    watch: [layout.vm(name), layout.vmStatus(name)],
    read: () => readVmFacts(store, layout, name),
    judge: (facts: VmFacts | null): Verdict<VmFacts> => {
      const verdict = judge(facts);
      if (verdict?.kind === 'done') return facts ? { kind: 'done', value: facts } : null;
      return verdict;
    },
    waitMs,
    timeoutMessage: (last) => timeoutMessage(last ?? null),
  });
}
