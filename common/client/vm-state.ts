// `vm start|stop|shutdown|restart|disable`: the client writes the desired state (compare-and-set
// on the spec's version) and, when asked, waits until the VM's node reports it reached.
//
// The documented reset: a VM in `fail` stays there until someone asks again (daemon/reconcile/
// vm-plan.ts). Asking start or restart of a failed VM turns its status into `stop` (same node) in
// the same multi-op, so its node tries again, and so a wait never mistakes the old failure for a
// new one.
import { performance } from 'node:perf_hooks';
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import type { VmState } from '../zk/schema.ts';
import { isZkError } from '../zk/store.ts';
import type { VmFacts, VmTarget } from './vm-read.ts';
import { shownVmState, type ShownVmState } from './vm-views.ts';
import { VM_WAIT_MAX_MS, waitForVm, type WaitVerdict } from './vm-wait.ts';
import { assertWaitMs } from './watch-until.ts';

export const VM_STATE_ACTIONS = ['start', 'stop', 'shutdown', 'restart', 'disable'] as const;
export type VmStateAction = (typeof VM_STATE_ACTIONS)[number];

/** Reads and writes retried when the spec or status changed between them. */
export const SET_STATE_MAX_ATTEMPTS = 8;

export interface SetStateOptions {
  /** How long to wait for the node to report the state; 0 returns once it is written. */
  waitMs: number;
}

export interface SetStateResult {
  name: string;
  action: VmStateAction;
  /**
   * 'already': the desired state was this already, nothing written (and, when waiting, reached);
   * 'requested': written, not waited for; 'completed': written and reached within waitMs.
   */
  outcome: 'already' | 'requested' | 'completed';
  previousDesiredState: VmState;
  /** A `fail` status was turned into `stop` so that the node tries again. */
  resetFailure: boolean;
  /** The shown state when this call returned. */
  state: ShownVmState;
  node: string | null;
  elapsedMs: number;
}

export function parseVmStateAction(value: string): VmStateAction {
  if ((VM_STATE_ACTIONS as readonly string[]).includes(value)) return value as VmStateAction;
  throw new PvcError('bad-input', `invalid vm state ${JSON.stringify(value)}: use one of ${VM_STATE_ACTIONS.join(', ')}`);
}

/**
 * Whether the VM is where `action` asked it to be, judged from what is stored now. Pure.
 * start: its node reports start. restart: its node has carried the restart out (the desired
 * state is back at start) and reports start. stop, shutdown, disable: its node reports that
 * state, or the VM was never placed (nothing runs it anywhere).
 */
export function judgeVmState(action: VmStateAction, name: string, facts: VmFacts | null): WaitVerdict {
  if (!facts) return { kind: 'failed', error: new PvcError('not-found', `vm ${name} was removed while waiting for it to ${action}`) };
  const spec = facts.spec.value;
  const { status } = facts;
  const expected: VmState[] = action === 'restart' ? ['restart', 'start'] : [action];
  if (!expected.includes(spec.desiredState)) {
    return { kind: 'failed', error: new PvcError('refused', `vm ${name}: its desired state was changed to ${spec.desiredState} by someone else while waiting for ${action}`) };
  }
  const onItsNode = status !== null && status.node === spec.node;
  if (action === 'start' || action === 'restart') {
    if (onItsNode && status.state === 'fail') {
      return { kind: 'failed', error: new PvcError('refused', `vm ${name} failed on node ${status.node}: ${status.failureReason ?? 'no reason given'}`) };
    }
    const started = onItsNode && status.state === 'start';
    return started && spec.desiredState === 'start' ? { kind: 'done' } : null;
  }
  if (onItsNode && status.state === action) return { kind: 'done' };
  if (spec.node === null && status === null) return { kind: 'done' };
  return null;
}

/** Why a wait is not over, for the timeout message. */
export function describeVmProgress(name: string, facts: VmFacts | null): string {
  if (!facts) return `vm ${name} is gone`;
  const spec = facts.spec.value;
  if (spec.node === null) return `vm ${name} has no node yet (${facts.unplaced?.reason ?? 'placement has not chosen one'})`;
  if (!facts.status) return `node ${spec.node} has reported nothing about vm ${name} yet (is its pvcd running?)`;
  return `desired state ${spec.desiredState}; node ${facts.status.node} reports ${facts.status.state}`;
}

export async function setVmState(target: VmTarget, name: string, action: VmStateAction, options: SetStateOptions): Promise<SetStateResult> {
  assertName('vm', name);
  parseVmStateAction(action);
  assertWaitMs(options.waitMs, VM_WAIT_MAX_MS);
  const { store, layout } = target;
  const startMs = performance.now();
  const elapsed = (): number => Math.round(performance.now() - startMs);

  for (let attempt = 1; attempt <= SET_STATE_MAX_ATTEMPTS; attempt += 1) {
    const [spec, status] = await Promise.all([store.get(layout.vm(name)), store.get(layout.vmStatus(name))]);
    if (!spec) throw new PvcError('not-found', `vm ${name} not found in cluster ${layout.cluster}`);
    const resetFailure = (action === 'start' || action === 'restart') && status?.value.state === 'fail';
    const already = spec.value.desiredState === action && !resetFailure;
    if (!already) {
      const tx = store.transaction().set(layout.vm(name), { ...spec.value, desiredState: action }, spec.version);
      // The reset keeps the node the VM failed on: it is where the VM last ran, which the next
      // start's RBD check needs to judge who still holds its volumes (daemon/runtime/rbd-guard.ts).
      if (resetFailure && status) tx.set(layout.vmStatus(name), { ...status.value, state: 'stop', failureReason: null, stats: null, updatedAtMs: Date.now() }, status.version);
      try {
        await tx.commit();
      } catch (error) {
        // The spec or the status changed since the read: decide again on what is there now.
        if (isZkError(error, 'BAD_VERSION') || isZkError(error, 'NO_NODE')) continue;
        throw error;
      }
    }
    const base = { name, action, previousDesiredState: spec.value.desiredState, resetFailure };
    if (options.waitMs === 0) {
      const facts: VmFacts = { spec, status: resetFailure && status ? { ...status.value, state: 'stop', failureReason: null } : (status?.value ?? null), unplaced: null };
      return { ...base, outcome: already ? 'already' : 'requested', state: shownVmState(facts), node: spec.value.node, elapsedMs: elapsed() };
    }
    const remainingMs = Math.max(0, Math.round(options.waitMs - (performance.now() - startMs)));
    const reached = await waitForVm(target, name, (facts) => judgeVmState(action, name, facts), remainingMs, (last) =>
      `vm ${name} did not ${action} within ${options.waitMs} ms: ${describeVmProgress(name, last)}; the request stays`,
    );
    return {
      ...base,
      outcome: already ? 'already' : 'completed',
      state: shownVmState(reached),
      node: reached.spec.value.node,
      elapsedMs: elapsed(),
    };
  }
  throw new PvcError('conflict', `gave up setting vm ${name} to ${action}: it changed ${SET_STATE_MAX_ATTEMPTS} times while writing`);
}
