import { describe, expect, it } from 'vitest';
import { planElection, type CandidateView, type ElectionView } from '../../daemon/reconcile/election-plan.ts';

const cand = (node: string, seq: number): CandidateView => ({ node, seq, childName: `${node}_${String(seq).padStart(10, '0')}` });

function view(overrides: Partial<ElectionView>): ElectionView {
  return {
    me: 'a',
    wantToServe: true,
    candidates: [cand('a', 1), cand('b', 2), cand('c', 3)],
    myCandidate: 'a_0000000001',
    lock: null,
    handover: null,
    runnablesRunning: false,
    leaseValid: false,
    ...overrides,
  };
}

describe('planElection as a contender', () => {
  it('joins the election when it has no candidate', () => {
    expect(planElection(view({ myCandidate: null }))).toEqual({ kind: 'join' });
  });

  it('re-joins when its candidate vanished (a new session)', () => {
    expect(planElection(view({ myCandidate: 'a_0000000009' }))).toEqual({ kind: 'join' });
  });

  it('takes the free lock only when it is the lowest candidate', () => {
    expect(planElection(view({}))).toEqual({ kind: 'acquire', clearHandoverVersion: null });
    expect(planElection(view({ me: 'b', myCandidate: 'b_0000000002' }))).toEqual({ kind: 'wait' });
  });

  it('orders by sequence number, not by the order ZooKeeper lists children', () => {
    const candidates = [cand('c', 30), cand('b', 12), cand('a', 7)];
    expect(planElection(view({ candidates, me: 'a', myCandidate: 'a_0000000007' })).kind).toBe('acquire');
    expect(planElection(view({ candidates, me: 'b', myCandidate: 'b_0000000012' })).kind).toBe('wait');
  });

  it('waits while another node holds the lock, even when lowest', () => {
    expect(planElection(view({ lock: { node: 'c', mine: false } }))).toEqual({ kind: 'wait' });
  });

  it('steps back when it stands ahead of a handover target', () => {
    const v = view({ me: 'b', myCandidate: 'b_0000000002', lock: { node: 'a', mine: false }, handover: { from: 'a', to: 'c', version: 0 } });
    expect(planElection(v).kind).toBe('step-back');
  });

  it('does not step back behind the target, or for a target that is not a candidate', () => {
    const behind = view({ me: 'c', myCandidate: 'c_0000000003', handover: { from: 'a', to: 'b', version: 0 }, lock: { node: 'a', mine: false } });
    expect(planElection(behind)).toEqual({ kind: 'wait' });
    const gone = view({ handover: { from: 'x', to: 'zz', version: 4 } });
    expect(planElection(gone)).toEqual({ kind: 'acquire', clearHandoverVersion: 4 });
  });

  it('the handover target takes the lock once first in line, clearing the request', () => {
    const v = view({ me: 'c', candidates: [cand('c', 3), cand('b', 5), cand('a', 6)], myCandidate: 'c_0000000003', handover: { from: 'a', to: 'c', version: 2 } });
    expect(planElection(v)).toEqual({ kind: 'acquire', clearHandoverVersion: 2 });
  });

  it('stops runnables it somehow runs without the lock', () => {
    expect(planElection(view({ runnablesRunning: true, lock: { node: 'b', mine: false } })).kind).toBe('stop-runnables');
  });

  it('leaves the election when shutting down', () => {
    expect(planElection(view({ wantToServe: false }))).toEqual({ kind: 'leave' });
    expect(planElection(view({ wantToServe: false, myCandidate: null }))).toEqual({ kind: 'wait' });
  });
});

describe('planElection as the lock holder', () => {
  const holder = (o: Partial<ElectionView>) => view({ lock: { node: 'a', mine: true }, leaseValid: true, ...o });

  it('starts runnables while the lease is valid, then waits', () => {
    expect(planElection(holder({}))).toEqual({ kind: 'start-runnables' });
    expect(planElection(holder({ runnablesRunning: true }))).toEqual({ kind: 'wait' });
  });

  it('stops runnables when the lease has run out, and does not restart them until renewed', () => {
    expect(planElection(holder({ leaseValid: false, runnablesRunning: true })).kind).toBe('stop-runnables');
    expect(planElection(holder({ leaseValid: false }))).toEqual({ kind: 'wait' });
  });

  it('on a handover request: stops runnables first, then releases and re-joins', () => {
    const handover = { from: 'a', to: 'c', version: 0 };
    expect(planElection(holder({ handover, runnablesRunning: true })).kind).toBe('stop-runnables');
    expect(planElection(holder({ handover }))).toMatchObject({ kind: 'release', rejoin: true });
  });

  it('on shutdown: stops runnables, then releases without re-joining', () => {
    expect(planElection(holder({ wantToServe: false, runnablesRunning: true })).kind).toBe('stop-runnables');
    expect(planElection(holder({ wantToServe: false }))).toMatchObject({ kind: 'release', rejoin: false });
  });

  it('clears a request left by a primary that is gone, or naming itself on both ends', () => {
    expect(planElection(holder({ handover: { from: 'b', to: 'c', version: 3 }, runnablesRunning: true }))).toMatchObject({ kind: 'clear-handover', version: 3 });
    expect(planElection(holder({ handover: { from: 'a', to: 'a', version: 1 }, runnablesRunning: true }))).toMatchObject({ kind: 'clear-handover', version: 1 });
  });
});

describe('a handover played out step by step', () => {
  it('converges to the target in a few steps with one lock holder at a time', () => {
    // Three coordinators; a is primary; a handover to c. Apply each node's plan in turn.
    const nodes = ['a', 'b', 'c'];
    let seq = 3;
    const state = {
      candidates: [cand('a', 1), cand('b', 2), cand('c', 3)],
      lock: 'a' as string | null,
      handover: { from: 'a', to: 'c', version: 0 } as ElectionView['handover'],
      running: new Set(['a']),
    };
    const mine = (n: string) => state.candidates.find((c) => c.node === n)?.childName ?? null;
    for (let round = 0; round < 10; round += 1) {
      for (const me of nodes) {
        const action = planElection({
          me, wantToServe: true, candidates: state.candidates, myCandidate: mine(me),
          lock: state.lock ? { node: state.lock, mine: state.lock === me } : null,
          handover: state.handover, runnablesRunning: state.running.has(me), leaseValid: true,
        });
        const requeue = () => { seq += 1; state.candidates = [...state.candidates.filter((c) => c.node !== me), cand(me, seq)]; };
        if (action.kind === 'stop-runnables') state.running.delete(me);
        if (action.kind === 'start-runnables') state.running.add(me);
        if (action.kind === 'step-back') requeue();
        if (action.kind === 'release') { state.lock = null; requeue(); }
        if (action.kind === 'acquire') { state.lock = me; state.handover = null; }
        expect(state.running.size).toBeLessThanOrEqual(1);
      }
    }
    expect(state.lock).toBe('c');
    expect([...state.running]).toEqual(['c']);
    expect(state.handover).toBeNull();
  });
});
