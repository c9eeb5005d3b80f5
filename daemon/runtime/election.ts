// The election controller: reads the election's state from ZooKeeper, asks the pure planner
// (reconcile/election-plan.ts) for the next step, applies it, and repeats. Watches and the
// periodic resync only trigger passes. It also keeps the primary lease (primary-lease.ts) and
// stops the runnables directly, without waiting for a pass, the moment that lease runs out.
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.ts';
import { lastPathSegment, parseCandidateName, type CoordinatorState, type ZkLayout } from '../../common/zk/schema.ts';
import { isZkError, type ZkStore } from '../../common/zk/store.ts';
import { planElection, type CandidateView, type ElectionAction, type ElectionView } from '../reconcile/election-plan.ts';
import type { RunnableSet } from '../coordinator/runnables.ts';
import { PrimaryLease } from './primary-lease.ts';
import { Reconciler } from './reconciler.ts';

/** Steps one pass may take before it yields; a healthy handover needs at most four. */
const MAX_STEPS_PER_PASS = 16;
const RETRY_DELAY_MS = 250;

export interface ElectionOptions {
  store: ZkStore;
  layout: ZkLayout;
  node: string;
  runnables: RunnableSet;
  resyncIntervalMs: number;
  log: Logger;
  onStateChange: (state: CoordinatorState) => void;
}

export class Election {
  private state: CoordinatorState = 'secondary';
  private wantToServe = false;
  private myCandidate: string | null = null;
  private holdsLock = false;
  private lease: PrimaryLease;
  private renewTimer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private watchdogTimer: NodeJS.Timeout | null = null;
  private readonly unwatch: Array<() => void> = [];
  private readonly reconciler: Reconciler;
  private readonly onSession = (): void => this.sessionReplaced();
  private readonly onStoreState = (state: string): void => {
    if (state !== 'expired') return;
    this.loseLease('zookeeper session expired');
    this.dropLock('session expired');
  };

  constructor(private readonly options: ElectionOptions) {
    this.lease = PrimaryLease.forSession(options.store.sessionTimeoutMs());
    this.reconciler = new Reconciler(() => this.pass(), {
      name: 'election',
      resyncIntervalMs: options.resyncIntervalMs,
      retryDelayMs: RETRY_DELAY_MS,
      log: options.log,
    });
  }

  get coordinatorState(): CoordinatorState {
    return this.state;
  }

  start(): void {
    const { store, layout } = this.options;
    this.wantToServe = true;
    const trigger = (): void => this.reconciler.trigger();
    this.unwatch.push(store.watch(layout.electionDir(), 'children', trigger));
    this.unwatch.push(store.watch(layout.primary(), 'exists', trigger));
    this.unwatch.push(store.watch(layout.handover(), 'data', trigger));
    store.on('session', this.onSession);
    store.on('state', this.onStoreState);
    // Belt and braces for the expiry timer: whatever path left runnables running without a
    // valid lease and the lock, this stops them within one renewal interval.
    this.watchdogTimer = setInterval(() => {
      if (this.options.runnables.running && !this.mayActAsPrimary()) this.loseLease('running without a valid primary lease');
    }, this.lease.renewIntervalMs);
    this.reconciler.start();
  }

  /** Hands the role over (when primary) and leaves the election; best effort when ZooKeeper is gone. */
  async stop(): Promise<void> {
    this.wantToServe = false;
    // One more pass with wantToServe off; stopping the reconciler waits for it and keeps watch
    // events from starting another beside the final pass below.
    this.reconciler.trigger();
    await this.reconciler.stop();
    if (this.holdsLock || this.myCandidate) {
      try {
        await this.pass();
      } catch (error) {
        this.options.log.warn({ err: errorMessage(error) }, 'could not leave the election cleanly; the session end will');
      }
    }
    await this.options.runnables.stopAll('shutting down');
    for (const stop of this.unwatch.splice(0)) stop();
    this.options.store.off('session', this.onSession);
    this.options.store.off('state', this.onStoreState);
    this.stopLeaseTimers();
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.watchdogTimer = null;
  }

  private async pass(): Promise<void> {
    for (let step = 0; step < MAX_STEPS_PER_PASS; step += 1) {
      const view = await this.readView();
      const action = planElection(view);
      if (action.kind === 'wait') {
        this.setState(this.holdsLock ? (this.options.runnables.running ? 'primary' : 'takeover') : 'secondary');
        return;
      }
      this.options.log.info({ action }, 'election step');
      await this.apply(action);
    }
    this.options.log.warn({ maxSteps: MAX_STEPS_PER_PASS }, 'election did not settle in one pass; continuing');
    this.reconciler.trigger();
  }

  private async readView(): Promise<ElectionView> {
    const { store, layout } = this.options;
    const sentAtMs = this.lease.now();
    const [children, lock, handover] = await Promise.all([
      store.children(layout.electionDir()),
      store.get(layout.primary()),
      store.get(layout.handover()),
    ]);
    const mine = lock !== null && lock.value.sessionId === store.sessionId();
    if (mine) {
      // A create whose answer was lost (CONNECTION_LOSS) may still have made us the holder.
      if (!this.holdsLock) this.adoptLock();
      this.renewLease(sentAtMs);
    } else if (this.holdsLock) {
      this.loseLease('the primary lock is no longer ours');
      this.dropLock('the primary lock is no longer ours');
    }
    const parsed: CandidateView[] = [];
    for (const child of children) {
      try {
        parsed.push(parseCandidateName(child));
      } catch {
        this.options.log.warn({ child }, 'ignoring a foreign node in the election directory');
      }
    }
    const candidates = await this.settleOwnCandidates(parsed);
    return {
      me: this.options.node,
      wantToServe: this.wantToServe,
      candidates,
      myCandidate: this.myCandidate,
      lock: lock ? { node: lock.value.node, mine } : null,
      handover: handover ? { ...handover.value, version: handover.version } : null,
      runnablesRunning: this.options.runnables.running,
      leaseValid: this.lease.valid(),
    };
  }

  /**
   * Makes sure this session has at most one candidate and knows which it is. A sequential
   * create (join, step-back, release) whose answer was lost to a connection loss may still have
   * created a child: unknown to us, it could sit first in line for ever, with nobody taking the
   * lock. Children named after this node and owned by this session are ours: the lowest is kept
   * (adopted if we knew none), the others removed. Returns the candidates left.
   */
  private async settleOwnCandidates(candidates: CandidateView[]): Promise<CandidateView[]> {
    const { store, layout, node } = this.options;
    if (this.myCandidate && !candidates.some((c) => c.childName === this.myCandidate)) this.myCandidate = null;
    const unknownOwn = candidates.filter((c) => c.node === node && c.childName !== this.myCandidate);
    if (unknownOwn.length === 0) return candidates;
    const session = store.sessionId();
    const stats = await Promise.all(unknownOwn.map((c) => store.stat(layout.candidate(c.childName))));
    const ours = [
      ...candidates.filter((c) => c.childName === this.myCandidate),
      ...unknownOwn.filter((_, i) => stats[i]?.ephemeralOwner === session),
    ].sort((a, b) => a.seq - b.seq);
    const [kept, ...extra] = ours;
    if (kept && kept.childName !== this.myCandidate) {
      this.options.log.warn({ candidate: kept.childName }, 'adopted an election candidate whose creation was not confirmed');
      this.myCandidate = kept.childName;
    }
    for (const orphan of extra) await store.removeIfPresent(layout.candidate(orphan.childName));
    return candidates.filter((c) => !extra.includes(c));
  }

  private adoptLock(): void {
    this.options.log.warn('adopted the primary lock whose creation was not confirmed');
    this.holdsLock = true;
    this.scheduleRenewal();
  }

  private async apply(action: ElectionAction): Promise<void> {
    const { store, layout, node } = this.options;
    switch (action.kind) {
      case 'wait':
        return;
      case 'join': {
        const path = await store.create(layout.newCandidate(node), { node }, 'ephemeral-sequential');
        this.myCandidate = lastPathSegment(path);
        return;
      }
      case 'leave':
        if (this.myCandidate) await store.removeIfPresent(layout.candidate(this.myCandidate));
        this.myCandidate = null;
        return;
      case 'step-back':
        await this.requeue();
        return;
      case 'acquire':
        await this.acquire(action.clearHandoverVersion);
        return;
      case 'start-runnables':
        if (!this.mayActAsPrimary()) return;
        this.setState('takeover');
        await this.options.runnables.startAll(this.primaryContext());
        if (this.options.runnables.running) this.setState('primary');
        return;
      case 'stop-runnables':
        this.setState('relinquish');
        await this.options.runnables.stopAll(action.reason);
        return;
      case 'release':
        await this.release(action.rejoin);
        return;
      case 'clear-handover':
        await this.ignoring(['NO_NODE', 'BAD_VERSION'], () => store.remove(layout.handover(), action.version));
        return;
      default: {
        const unknown: never = action;
        throw new Error(`unhandled election action ${JSON.stringify(unknown)}`);
      }
    }
  }

  private async acquire(clearHandoverVersion: number | null): Promise<void> {
    const { store, layout, node } = this.options;
    this.setState('takeover');
    const sentAtMs = this.lease.now();
    const tx = store.transaction().create(layout.primary(), { node, sessionId: store.sessionId() }, 'ephemeral');
    if (clearHandoverVersion !== null) tx.remove(layout.handover(), clearHandoverVersion);
    // Losing the race (someone else took the lock, or the request changed) is not an error:
    // the next step reads the new state and plans again.
    const won = await this.ignoring(['NODE_EXISTS', 'BAD_VERSION', 'NO_NODE'], () => tx.commit());
    if (!won) {
      this.setState('secondary');
      return;
    }
    this.holdsLock = true;
    this.renewLease(sentAtMs);
    this.scheduleRenewal();
    this.options.log.info({ node }, 'took the primary lock');
  }

  /** Lets the lock go; only ever called once the runnables have stopped. */
  private async release(rejoin: boolean): Promise<void> {
    const { store, layout, node } = this.options;
    const tx = store.transaction().remove(layout.primary());
    if (this.myCandidate) tx.remove(layout.candidate(this.myCandidate));
    if (rejoin) tx.create(layout.newCandidate(node), { node }, 'ephemeral-sequential');
    // Checked right before the commit, with no await in between: if our session expired since
    // the view was read, the lock at that path may already be another node's.
    if (!this.holdsLock) return;
    const paths = await tx.commit();
    this.myCandidate = rejoin ? lastPathSegment(paths[paths.length - 1] ?? '') : null;
    this.dropLock('released');
    this.setState('secondary');
    this.options.log.info({ node, rejoin }, 'released the primary lock');
  }

  /** Moves this node's candidate to the back of the line, in one transaction. */
  private async requeue(): Promise<void> {
    const { store, layout, node } = this.options;
    const tx = store.transaction();
    if (this.myCandidate) tx.remove(layout.candidate(this.myCandidate));
    tx.create(layout.newCandidate(node), { node }, 'ephemeral-sequential');
    const paths = await tx.commit();
    this.myCandidate = lastPathSegment(paths[paths.length - 1] ?? '');
  }

  private primaryContext() {
    return { node: this.options.node, stillPrimary: () => this.mayActAsPrimary(), log: this.options.log };
  }

  private mayActAsPrimary(): boolean {
    return this.holdsLock && this.wantToServe && this.lease.valid();
  }

  private renewLease(sentAtMs: number): void {
    this.lease.renew(sentAtMs);
    this.armExpiry();
  }

  /** Stops primary work the moment the lease runs out, unless a renewal comes first. */
  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => {
      // Node's timers count from the event loop's cached clock, which can lag the monotonic
      // clock by some milliseconds: a timer may fire just before the lease ends. Check again then.
      if (this.lease.valid()) this.armExpiry();
      else this.loseLease('primary lease expired without word from zookeeper');
    }, this.lease.remainingMs() + 1);
  }

  private scheduleRenewal(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = setInterval(() => void this.renewOnce(), this.lease.renewIntervalMs);
  }

  private async renewOnce(): Promise<void> {
    if (!this.holdsLock) return;
    const { store, layout } = this.options;
    const sentAtMs = this.lease.now();
    try {
      const stat = await store.stat(layout.primary());
      if (stat && stat.ephemeralOwner === store.sessionId()) {
        this.renewLease(sentAtMs);
      } else {
        this.loseLease('the primary lock is gone');
      }
    } catch (error) {
      // No answer: the lease simply is not renewed, and runs out on its own if this goes on.
      this.options.log.debug({ err: errorMessage(error) }, 'lease renewal failed');
    }
  }

  /** Stop primary work now: the lease is gone or cannot be trusted. */
  private loseLease(reason: string): void {
    if (!this.holdsLock && !this.options.runnables.running) return;
    this.options.log.warn({ reason }, 'stopping primary work');
    this.lease.revoke();
    this.setState('relinquish');
    void this.options.runnables.stopAll(reason).then(() => this.reconciler.trigger());
  }

  private dropLock(reason: string): void {
    this.holdsLock = false;
    this.lease.revoke();
    this.stopLeaseTimers();
    this.options.log.info({ reason }, 'no longer holding the primary lock');
  }

  private sessionReplaced(): void {
    // The old session took its ephemerals (candidate and lock) with it.
    this.loseLease('zookeeper session replaced');
    this.myCandidate = null;
    this.dropLock('session replaced');
    // The ensemble may grant the new session another timeout; the lease follows it.
    this.lease = PrimaryLease.forSession(this.options.store.sessionTimeoutMs());
    this.reconciler.trigger();
  }

  private stopLeaseTimers(): void {
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.renewTimer = null;
    this.expiryTimer = null;
  }

  private setState(state: CoordinatorState): void {
    if (state === this.state) return;
    this.state = state;
    this.options.log.info({ coordinatorState: state }, 'coordinator state');
    this.options.onStateChange(state);
  }

  /** Runs `work`; returns false instead of throwing for the named ZooKeeper errors. */
  private async ignoring<T>(codes: Array<'NO_NODE' | 'NODE_EXISTS' | 'BAD_VERSION'>, work: () => Promise<T>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (error) {
      if (codes.some((code) => isZkError(error, code))) return false;
      throw error;
    }
  }
}
