// How long this node may go on believing it is primary without hearing from ZooKeeper.
//
// ZooKeeper expires a session only after hearing nothing from its client for the session
// timeout, counted from the last request the server received. A request we sent at time S and
// saw answered reached the server after S, so the session (and the primary lock with it) cannot
// expire before S + sessionTimeout. The lease ends well before that, at S + leaseMs, leaving the
// rest of the session timeout for the runnables to stop. A new primary can only take the lock
// once the old session is gone, so the two never run primary work at the same time, even when
// this process was frozen (SIGSTOP) or cut off: on waking, the lease has already run out.
//
// The clock is monotonic (performance.now), which keeps counting while the process is stopped.

export type MonotonicClock = () => number;

export const monotonicNowMs: MonotonicClock = () => performance.now();

/** The lease as a share of the session timeout; the remainder is the margin for stopping. */
export const LEASE_SHARE_OF_SESSION = 0.5;
/** Renewals per lease, so that one or two slow answers do not end it. */
export const RENEWALS_PER_LEASE = 4;
/** Never renew more often than this, whatever the session timeout. */
export const MIN_RENEW_INTERVAL_MS = 50;

export class PrimaryLease {
  private expiresAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly leaseMs: number,
    readonly now: MonotonicClock = monotonicNowMs,
  ) {}

  static forSession(sessionTimeoutMs: number, now: MonotonicClock = monotonicNowMs): PrimaryLease {
    return new PrimaryLease(Math.floor(sessionTimeoutMs * LEASE_SHARE_OF_SESSION), now);
  }

  get renewIntervalMs(): number {
    return Math.max(MIN_RENEW_INTERVAL_MS, Math.floor(this.leaseMs / RENEWALS_PER_LEASE));
  }

  /** Call with the time a request was *sent*, once its answer proved the session alive. */
  renew(sentAtMs: number): void {
    this.expiresAtMs = Math.max(this.expiresAtMs, sentAtMs + this.leaseMs);
  }

  revoke(): void {
    this.expiresAtMs = Number.NEGATIVE_INFINITY;
  }

  valid(): boolean {
    return this.now() < this.expiresAtMs;
  }

  /** Milliseconds left, 0 when expired. */
  remainingMs(): number {
    return Math.max(0, this.expiresAtMs - this.now());
  }
}
