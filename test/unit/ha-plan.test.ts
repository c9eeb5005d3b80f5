// The pure planners of high availability: which nodes are dead (dead-node-plan.ts) and the next
// step of a fence (fence-plan.ts), including a fence taken over half-way by a new primary.
import { describe, expect, it } from 'vitest';
import { NodeStatusDoc, type Fence, type FenceStep, type FenceStepResult } from '../../common/zk/schema.ts';
import { findDeadNodes, trackKeepalives, type NodeObservation } from '../../daemon/reconcile/dead-node-plan.ts';
import { planFence, publishedSelfFenceBound, SELF_FENCE_MARGIN_MS, type FencePlanInput } from '../../daemon/reconcile/fence-plan.ts';

const obs = (node: string, over: Partial<NodeObservation> = {}): NodeObservation => ({ node, alive: true, reportedState: 'run', keepaliveSeq: 1, pid: 100, fenced: false, aliveSession: 's1', ...over });
const bounds = { keepaliveStaleMs: 5_000 };

describe('dead node detection', () => {
  it('a node whose alive ephemeral is gone while it reported run is dead (session-lost)', () => {
    const tracker = trackKeepalives(new Map(), [obs('a'), obs('b')], 0);
    const dead = findDeadNodes([obs('a'), obs('b', { alive: false })], tracker, 100, bounds, 'a');
    expect(dead).toEqual([expect.objectContaining({ node: 'b', reason: 'session-lost', lastSignMs: 0 })]);
    expect(dead[0]?.detail).toMatch(/session of its pvcd ended/);
  });

  it('a live session whose keepalive stops moving is dead only past the bound, on the primary clock', () => {
    let tracker = trackKeepalives(new Map(), [obs('b', { keepaliveSeq: 7 })], 1_000);
    tracker = trackKeepalives(tracker, [obs('b', { keepaliveSeq: 7 })], 5_900);
    expect(findDeadNodes([obs('b', { keepaliveSeq: 7 })], tracker, 5_900, bounds, 'a')).toEqual([]);
    expect(findDeadNodes([obs('b', { keepaliveSeq: 7 })], tracker, 6_001, bounds, 'a')).toEqual([expect.objectContaining({ node: 'b', reason: 'keepalive-stale', lastSignMs: 1_000 })]);
    // Moving again resets the interval.
    tracker = trackKeepalives(tracker, [obs('b', { keepaliveSeq: 8 })], 6_500);
    expect(findDeadNodes([obs('b', { keepaliveSeq: 8 })], tracker, 11_000, bounds, 'a')).toEqual([]);
  });

  it('a restarted pvcd whose sequence repeats the old one\'s is still seen moving (pid and sequence)', () => {
    let tracker = trackKeepalives(new Map(), [obs('b', { keepaliveSeq: 3, pid: 100 })], 0);
    tracker = trackKeepalives(tracker, [obs('b', { keepaliveSeq: 3, pid: 200 })], 7_000);
    expect(findDeadNodes([obs('b', { keepaliveSeq: 3, pid: 200 })], tracker, 7_100, bounds, 'a')).toEqual([]);
  });

  it('a pvcd that registered a new session before its first status write is not stale on the old status', () => {
    // The old process wrote keepalive 25 and died; the node was fenced, booted and returned. Its
    // new pvcd holds a new session, but the status is still the old process's for a moment.
    let tracker = trackKeepalives(new Map(), [obs('b', { keepaliveSeq: 25, pid: 100, aliveSession: 's1' })], 0);
    tracker = trackKeepalives(tracker, [obs('b', { keepaliveSeq: 25, pid: 100, alive: false, aliveSession: null })], 3_000);
    // The session ended: its last sign stays the keepalive's last move.
    expect(findDeadNodes([obs('b', { keepaliveSeq: 25, pid: 100, alive: false, aliveSession: null })], tracker, 3_000, bounds, 'a')).toEqual([expect.objectContaining({ reason: 'session-lost', lastSignMs: 0 })]);
    tracker = trackKeepalives(tracker, [obs('b', { keepaliveSeq: 25, pid: 100, aliveSession: 's2' })], 4_900);
    expect(findDeadNodes([obs('b', { keepaliveSeq: 25, pid: 100, aliveSession: 's2' })], tracker, 5_100, bounds, 'a')).toEqual([]);
    // Still no write of its own a whole bound after it registered: wedged.
    expect(findDeadNodes([obs('b', { keepaliveSeq: 25, pid: 100, aliveSession: 's2' })], tracker, 9_901, bounds, 'a')).toEqual([expect.objectContaining({ node: 'b', reason: 'keepalive-stale', lastSignMs: 4_900 })]);
  });

  it('a new primary gives every node a full bound from its first look', () => {
    const tracker = trackKeepalives(new Map(), [obs('b', { keepaliveSeq: 3 })], 50_000);
    expect(findDeadNodes([obs('b', { keepaliveSeq: 3 })], tracker, 54_000, bounds, 'a')).toEqual([]);
  });

  it('never the primary itself, a cleanly stopped node, a node without status, or one already fenced', () => {
    const nodes = [obs('a', { alive: false }), obs('s', { alive: false, reportedState: 'stop' }), obs('n', { alive: false, reportedState: null }), obs('f', { alive: false, fenced: true }), obs('x', { alive: false, reportedState: 'fenced' })];
    expect(findDeadNodes(nodes, new Map(), 0, bounds, 'a')).toEqual([]);
  });
});

function fence(steps: Array<[FenceStep, FenceStepResult]>, outcome: Fence['outcome'] = 'in-progress'): Fence {
  return { node: 'b', reason: 'session-lost', detail: 'd', by: 'a', startedAtMs: 1, steps: steps.map(([step, result]) => ({ step, result, detail: '', atMs: 1 })), outcome };
}
const plan = (f: Fence, over: Partial<FencePlanInput> = {}) => planFence({ fence: f, policy: 'leave-down', nowMs: 0, lastSignMs: 0, nodeSelfFenceBoundMs: 1_000, ...over });
/** With lastSignMs 0 and the node's bound 1000: when the recover policy may release. */
const SAFE_AT_MS = 1_000 + SELF_FENCE_MARGIN_MS;

describe('fence steps', () => {
  it('power off, blocklist, release, fenced', () => {
    expect(plan(fence([]))).toEqual({ kind: 'power-off' });
    expect(plan(fence([['power-off', 'done']]))).toEqual({ kind: 'blocklist' });
    expect(plan(fence([['power-off', 'done'], ['blocklist', 'skipped']]))).toEqual({ kind: 'release-vms' });
    expect(plan(fence([['power-off', 'done'], ['blocklist', 'done'], ['release-vms', 'done']]))).toMatchObject({ kind: 'finish', outcome: 'fenced' });
    expect(plan(fence([['power-off', 'done'], ['blocklist', 'done'], ['release-vms', 'done']], 'fenced'))).toEqual({ kind: 'settled' });
  });

  it('a failed or missing power off leaves the vms down under the default policy', () => {
    expect(plan(fence([['power-off', 'failed'], ['blocklist', 'done']]))).toMatchObject({ kind: 'finish', outcome: 'vms-left-down' });
    expect(plan(fence([['power-off', 'skipped'], ['blocklist', 'skipped']]))).toMatchObject({ kind: 'finish', outcome: 'vms-left-down' });
    expect(plan(fence([['power-off', 'failed'], ['blocklist', 'done']], 'vms-left-down'))).toEqual({ kind: 'settled' });
  });

  it('policy recover waits out the self-fence bound, then releases; never on a failed blocklist', () => {
    const f = fence([['power-off', 'failed'], ['blocklist', 'done']]);
    expect(plan(f, { policy: 'recover', nowMs: 1_000 })).toEqual({ kind: 'wait-self-fence', untilMs: SAFE_AT_MS });
    expect(plan(f, { policy: 'recover', nowMs: SAFE_AT_MS })).toMatchObject({ kind: 'record', step: 'wait-self-fence' });
    expect(plan(fence([['power-off', 'failed'], ['blocklist', 'done'], ['wait-self-fence', 'done']]), { policy: 'recover' })).toEqual({ kind: 'release-vms' });
    expect(plan(fence([['power-off', 'failed'], ['blocklist', 'failed']]), { policy: 'recover', nowMs: 9_000 })).toMatchObject({ kind: 'finish', outcome: 'vms-left-down' });
  });

  it('policy recover waits on the dead node\'s own published bound, from its last sign of life', () => {
    const f = fence([['power-off', 'skipped'], ['blocklist', 'done']]);
    const over = { policy: 'recover', lastSignMs: 20_000, nodeSelfFenceBoundMs: 5_000 } as const;
    const safeAtMs = 20_000 + 5_000 + SELF_FENCE_MARGIN_MS;
    expect(plan(f, { ...over, nowMs: 21_000 })).toEqual({ kind: 'wait-self-fence', untilMs: safeAtMs });
    expect(plan(f, { ...over, nowMs: safeAtMs - 1 })).toEqual({ kind: 'wait-self-fence', untilMs: safeAtMs });
    expect(plan(f, { ...over, nowMs: safeAtMs })).toMatchObject({ kind: 'record', step: 'wait-self-fence', detail: expect.stringMatching(/5000 ms/) });
  });

  it('policy recover stands on the blocklist alone when the node does not fence itself, or did not say', () => {
    const f = fence([['power-off', 'failed'], ['blocklist', 'done']]);
    // No wait: waiting would not make a node that does not fence itself any safer.
    expect(plan(f, { policy: 'recover', nodeSelfFenceBoundMs: null, nowMs: 1_000 })).toEqual({ kind: 'release-vms' });
    expect(plan(f, { policy: 'recover', nodeSelfFenceBoundMs: 'unknown', nowMs: 1_000 })).toEqual({ kind: 'release-vms' });
    const released = fence([['power-off', 'failed'], ['blocklist', 'done'], ['release-vms', 'done']]);
    const off = plan(released, { policy: 'recover', nodeSelfFenceBoundMs: null });
    expect(off).toMatchObject({ kind: 'finish', outcome: 'fenced' });
    expect(off.kind === 'finish' && off.detail).toContain('recovered on the ceph blocklist alone (policy recover): node b does not fence itself (self-fence off, or auto with a BMC)');
    expect(plan(released, { policy: 'recover', nodeSelfFenceBoundMs: 'unknown' })).toMatchObject({ kind: 'finish', outcome: 'fenced', detail: expect.stringMatching(/node b has not published whether it fences itself/) });
    // Never without the blocklist.
    expect(plan(fence([['power-off', 'failed'], ['blocklist', 'failed']]), { policy: 'recover', nodeSelfFenceBoundMs: null })).toMatchObject({ kind: 'finish', outcome: 'vms-left-down' });
    // A wait an earlier primary recorded stands, and its detail says so.
    const waited = fence([['power-off', 'failed'], ['blocklist', 'done'], ['wait-self-fence', 'done'], ['release-vms', 'done']]);
    expect(plan(waited, { policy: 'recover', nodeSelfFenceBoundMs: null })).toMatchObject({ kind: 'finish', outcome: 'fenced', detail: expect.stringMatching(/self-fence bound/) });
  });

  it('policy leave-down ignores the node\'s bound', () => {
    const f = fence([['power-off', 'failed'], ['blocklist', 'done']]);
    for (const nodeSelfFenceBoundMs of [5_000, null, 'unknown'] as const) {
      expect(plan(f, { nodeSelfFenceBoundMs, nowMs: 1_000_000 })).toMatchObject({ kind: 'finish', outcome: 'vms-left-down', detail: expect.stringMatching(/policy leave-down/) });
    }
  });

  it('the published bound: a number, null, or unknown in a status from before the field', () => {
    // Parsed by the codec: a status without the field (an older pvcd) still reads.
    const status = (over: object) => NodeStatusDoc.parse({ daemonState: 'run', coordinatorState: 'client', pvcdVersion: '0.1.0', pid: 1, keepaliveSeq: 1, updatedAtMs: 1, host: { cores: 1, loadAvg: [0, 0, 0], memoryTotalMiB: 1, memoryUsedMiB: 0, memoryFreeMiB: 1, uptimeS: 1 }, ...over });
    expect(publishedSelfFenceBound(status({ selfFenceBoundMs: 5_000 }))).toBe(5_000);
    expect(publishedSelfFenceBound(status({ selfFenceBoundMs: null }))).toBeNull();
    expect(publishedSelfFenceBound(status({}))).toBe('unknown');
    expect(publishedSelfFenceBound(null)).toBe('unknown');
    expect(() => status({ selfFenceBoundMs: 0 })).toThrow();
  });

  it('a node that destroyed its own vms needs no power off, and reopens a vms-left-down fence', () => {
    expect(plan(fence([['self-fence', 'done']]))).toEqual({ kind: 'blocklist' });
    expect(plan(fence([['power-off', 'failed'], ['blocklist', 'done'], ['self-fence', 'done']], 'vms-left-down'))).toEqual({ kind: 'release-vms' });
  });

  it('a new primary carries on from the last recorded step', () => {
    // The old primary powered off and died before the blocklist: the next step is the blocklist,
    // never a second power off.
    expect(plan(fence([['power-off', 'done']]))).toEqual({ kind: 'blocklist' });
  });
});
