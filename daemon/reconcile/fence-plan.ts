// The next step of one fence: a pure function of the fence record (the steps done so far, as
// persisted in ZooKeeper), the policy and the time. The fencing runnable applies the step,
// records its result in the record (compare-and-set) and plans again, so a primary that dies
// half-way is replaced by one that carries on from the last recorded step.
//
//   power-off ----> blocklist ----> [power confirmed off, or the node destroyed its own VMs]
//                                        yes: release-vms -> fenced
//                                        no:  policy leave-down -> vms-left-down (a fault)
//                                             policy recover    -> the node fences itself (its published bound)?
//                                                                    yes: wait-self-fence -> release-vms -> fenced
//                                                                    no, or unknown: release-vms on the blocklist alone -> fenced
//
// The wait is the dead node's own bound, as it published it (NodeStatus.selfFenceBoundMs), never
// the primary's: only the node's own config says whether and when it destroys its guests. A node
// that does not fence itself gets no wait, since no wait would make it safer: `recover` then
// stands on the blocklist alone (the "recover on blocklist alone"), and the fence's
// detail says that its guests may still run, cut off from their RBD disks.
//
// A node that later confirms it destroyed its VMs (a `self-fence` step, written by its own pvcd
// when it wakes or reconnects) turns a vms-left-down fence into a release.
import type { Fence, FenceStep, FenceStepRecord, NodeStatus } from '../../common/zk/schema.ts';

/** What to do when the BMC failed, cannot be reached, or the node has none. */
export const FENCE_FAILURE_POLICIES = ['leave-down', 'recover'] as const;
export type FenceFailurePolicy = (typeof FENCE_FAILURE_POLICIES)[number];

/**
 * Added to the node's self-fence bound before recovering without a confirmed power off: the
 * node's own check interval and its destroy calls (`virsh destroy` takes ~1.6 s here), on a
 * loaded machine. 1 s was seen to be too short: a clean-clone test run beside another suite had
 * guests of a cut-off node still running 2.4 s after the recovery started them elsewhere.
 */
export const SELF_FENCE_MARGIN_MS = 4_000;

/**
 * What the dead node published of its self-fence: its bound in ms; null, it does not fence
 * itself (self-fence off, or `auto` with a BMC); `unknown`, it published nothing (no status, or
 * a pvcd from before the field), which is no promise either.
 */
export type PublishedSelfFenceBound = number | null | 'unknown';

export function publishedSelfFenceBound(status: NodeStatus | null): PublishedSelfFenceBound {
  const bound = status?.selfFenceBoundMs;
  return bound === undefined ? 'unknown' : bound;
}

export interface FencePlanInput {
  fence: Fence;
  policy: FenceFailurePolicy;
  /** Monotonic, on the primary's clock, like lastSignMs. */
  nowMs: number;
  /** When the primary last saw the node alive (its keepalive moving, its session open). */
  lastSignMs: number;
  /** The dead node's own bound: if it still runs, it has destroyed its VMs this long after. */
  nodeSelfFenceBoundMs: PublishedSelfFenceBound;
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
    const unconfirmed = planUnconfirmed(input, power);
    if (unconfirmed) return unconfirmed;
  }
  if (!released) return { kind: 'release-vms' };
  return { kind: 'finish', outcome: 'fenced', detail: fencedDetail(input, selfFenced, confirmed) };
}

function fencedDetail(input: FencePlanInput, selfFenced: boolean, confirmed: boolean): string {
  if (selfFenced) return 'the node destroyed its own vms';
  if (confirmed) return 'power off confirmed by the bmc';
  if (last(input.fence, 'wait-self-fence') !== undefined) return 'recovered on the blocklist and the node\'s self-fence bound (policy recover)';
  const why = input.nodeSelfFenceBoundMs === null ? 'does not fence itself (self-fence off, or auto with a BMC)' : 'has not published whether it fences itself (no status, or an older pvcd)';
  return `recovered on the ceph blocklist alone (policy recover): node ${input.fence.node} ${why}, so its guests may still run, cut off from their rbd disks, until it is powered off`;
}

/** A fence without a confirmed power off: what the policy does, or null when it may release. */
function planUnconfirmed(input: FencePlanInput, power: FenceStepRecord | undefined): FenceAction | null {
  const { fence, policy } = input;
  switch (policy) {
    case 'leave-down':
      return { kind: 'finish', outcome: 'vms-left-down', detail: `the power off was not confirmed (${power?.detail ?? 'no result'}); policy leave-down keeps the node's vms down until it is back or an operator acts` };
    case 'recover': {
      if (last(fence, 'blocklist')?.result === 'failed') {
        return { kind: 'finish', outcome: 'vms-left-down', detail: 'neither the power off nor the ceph blocklist succeeded; the vms stay down' };
      }
      // Recorded by an earlier pass (or primary): the wait is over whatever the node says now.
      if (last(fence, 'wait-self-fence') !== undefined) return null;
      const bound = input.nodeSelfFenceBoundMs;
      if (bound === null || bound === 'unknown') return null;
      const safeAtMs = input.lastSignMs + bound + SELF_FENCE_MARGIN_MS;
      if (input.nowMs < safeAtMs) return { kind: 'wait-self-fence', untilMs: safeAtMs };
      return { kind: 'record', step: 'wait-self-fence', detail: `waited past the node's self-fence bound (${bound} ms + ${SELF_FENCE_MARGIN_MS} ms since its last sign of life): it has destroyed its vms if it still runs (policy recover)` };
    }
    default: {
      const unknown: never = policy;
      throw new Error(`unhandled fence failure policy ${JSON.stringify(unknown)}`);
    }
  }
}
