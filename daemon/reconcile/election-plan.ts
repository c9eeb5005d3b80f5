// The primary-coordinator election, as a pure planner: given what this coordinator sees in
// ZooKeeper and in itself, the one next step to take. The controller (runtime/election.ts)
// applies the step, reads everything again and plans again until the answer is `wait`.
//
// The recipe is ZooKeeper's ephemeral-sequential leader election: the candidate with the lowest
// sequence number leads. Leading alone does not let a node run primary work: it must also hold
// the ephemeral `primary` lock, which the previous primary deletes only after its runnables have
// stopped (or which vanishes with its session). That lock is what makes a planned handover
// ordered: the old primary stops, then releases, then the new one takes the lock and starts.

export interface CandidateView {
  childName: string;
  node: string;
  seq: number;
}

export interface ElectionView {
  me: string;
  /** The daemon is in `run` and not shutting down. */
  wantToServe: boolean;
  /** All candidates, any order. */
  candidates: CandidateView[];
  /** The child this process created in its current session, if it still exists. */
  myCandidate: string | null;
  lock: { node: string; mine: boolean } | null;
  handover: { from: string; to: string | null; version: number } | null;
  runnablesRunning: boolean;
  leaseValid: boolean;
}

export type ElectionAction =
  | { kind: 'wait' }
  | { kind: 'join' }
  | { kind: 'leave' }
  | { kind: 'step-back'; reason: string }
  | { kind: 'acquire'; clearHandoverVersion: number | null }
  | { kind: 'start-runnables' }
  | { kind: 'stop-runnables'; reason: string }
  | { kind: 'release'; rejoin: boolean; reason: string }
  | { kind: 'clear-handover'; version: number; reason: string };

export function sortCandidates(candidates: readonly CandidateView[]): CandidateView[] {
  return [...candidates].sort((a, b) => a.seq - b.seq);
}

export function planElection(view: ElectionView): ElectionAction {
  return view.lock?.mine ? planAsHolder(view) : planAsContender(view);
}

function planAsHolder(view: ElectionView): ElectionAction {
  const { handover } = view;
  const askedToStepDown = handover !== null && handover.from === view.me && handover.to !== view.me;
  if (!view.wantToServe || askedToStepDown) {
    const reason = view.wantToServe ? `handover to ${handover?.to ?? 'the next coordinator'}` : 'shutting down';
    if (view.runnablesRunning) return { kind: 'stop-runnables', reason };
    return { kind: 'release', rejoin: view.wantToServe, reason };
  }
  if (handover !== null) {
    // A request that names another node as `from`, or this node as both ends, is left over from
    // a primary that is gone: the holder clears it so it cannot move the role later by surprise.
    return { kind: 'clear-handover', version: handover.version, reason: `stale request from ${handover.from}` };
  }
  if (!view.leaseValid) {
    return view.runnablesRunning ? { kind: 'stop-runnables', reason: 'primary lease expired' } : { kind: 'wait' };
  }
  return view.runnablesRunning ? { kind: 'wait' } : { kind: 'start-runnables' };
}

function planAsContender(view: ElectionView): ElectionAction {
  if (view.runnablesRunning) return { kind: 'stop-runnables', reason: 'not holding the primary lock' };
  if (!view.wantToServe) return view.myCandidate ? { kind: 'leave' } : { kind: 'wait' };
  if (!view.myCandidate) return { kind: 'join' };

  const ordered = sortCandidates(view.candidates);
  const mine = ordered.find((c) => c.childName === view.myCandidate);
  if (!mine) return { kind: 'join' };

  const target = view.handover?.to ?? null;
  if (target !== null && target !== view.me) {
    const targetCandidate = ordered.find((c) => c.node === target);
    if (targetCandidate && mine.seq < targetCandidate.seq) {
      return { kind: 'step-back', reason: `handover to ${target}` };
    }
  }
  if (view.lock === null && ordered[0]?.childName === view.myCandidate) {
    return { kind: 'acquire', clearHandoverVersion: view.handover?.version ?? null };
  }
  return { kind: 'wait' };
}
