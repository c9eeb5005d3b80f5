// The next step of one fence: a pure function of the fence record (the steps done so far, as
// persisted in ZooKeeper), the policy and the time. The fencing runnable applies the step,
// records its result in the record (compare-and-set) and plans again, so a primary that dies
// half-way is replaced by one that carries on from the last recorded step.
//
//   power-off ----> blocklist ----> [power confirmed off, or the node destroyed its own VMs]
//                                        yes: release-vms -> fenced
//                                        no:  policy leave-down -> vms-left-down (a fault)
//                                             policy recover    -> wait-self-fence -> release-vms -> fenced
//
// A node that later confirms it destroyed its VMs (a `self-fence` step, written by its own pvcd
// when it wakes or reconnects) turns a vms-left-down fence into a release.
import type { Fence, FenceStep, FenceStepRecord } from '../../common/zk/schema.ts';

/** What to do when the BMC failed, cannot be reached, or the node has none. */
export const FENCE_FAILURE_POLICIES = ['leave-down', 'recover'] as const;
export type FenceFailurePolicy = (typeof FENCE_FAILURE_POLICIES)[number];

export interface FencePlanInput {
  fence: Fence;
  policy: FenceFailurePolicy;
  nowMs: number;
  /**
   * Monotonic ms after which the node must have destroyed its own VMs if it could still run
   * (its self-fence bound past its last sign of life, plus a margin).
   */
  selfFenceSafeAtMs: number;
}

export type FenceAction =
  | { kind: 'power-off' }
  | { kind: 'blocklist' }
  | { kind: 'wait-self-fence'; untilMs: number }
  /** The wait is over: record it, then release. */
  | { kind: 'record'; step: FenceStep; detail: string }
  | { kind: 'release-vms' }
  | { kind: 'finish'; outcome: 'fenced' | 'vms-left-down'; detail: string }
  | { kind: 'settled' };

function last(fence: Fence, step: FenceStep): FenceStepRecord | undefined {
  return fence.steps.filter((s) => s.step === step).at(-1);
}

export function planFence(input: FencePlanInput): FenceAction {
  const { fence } = input;
  const selfFenced = last(fence, 'self-fence')?.result === 'done';
  const released = last(fence, 'release-vms') !== undefined;
  if (fence.outcome === 'fenced') return { kind: 'settled' };
  if (fence.outcome === 'vms-left-down' && !selfFenced) return { kind: 'settled' };

  const power = last(fence, 'power-off');
  if (!selfFenced && power === undefined) return { kind: 'power-off' };
  if (last(fence, 'blocklist') === undefined) return { kind: 'blocklist' };

  const confirmed = selfFenced || power?.result === 'done';
  if (!confirmed) {
    if (input.policy === 'leave-down') {
      return { kind: 'finish', outcome: 'vms-left-down', detail: `the power off was not confirmed (${power?.detail ?? 'no result'}); policy leave-down keeps the node's vms down until it is back or an operator acts` };
    }
    if (last(fence, 'blocklist')?.result === 'failed') {
      return { kind: 'finish', outcome: 'vms-left-down', detail: 'neither the power off nor the ceph blocklist succeeded; the vms stay down' };
    }
    if (last(fence, 'wait-self-fence') === undefined) {
      if (input.nowMs < input.selfFenceSafeAtMs) return { kind: 'wait-self-fence', untilMs: input.selfFenceSafeAtMs };
      return { kind: 'record', step: 'wait-self-fence', detail: 'waited past the self-fence bound: the node has destroyed its vms if it still runs (policy recover)' };
    }
  }
  if (!released) return { kind: 'release-vms' };
  return { kind: 'finish', outcome: 'fenced', detail: selfFenced ? 'the node destroyed its own vms' : confirmed ? 'power off confirmed by the bmc' : 'recovered on the blocklist and the self-fence bound (policy recover)' };
}
