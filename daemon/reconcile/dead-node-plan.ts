// Which nodes the primary considers dead: a pure function of what it read from ZooKeeper and of
// when (on its own monotonic clock) it last saw each node's keepalive move. A node is dead when
//   - its alive ephemeral is gone while its last status claims a live state (its pvcd's session
//     ended without a clean stop: SIGKILL, crash, freeze or cut-off longer than the session), or
//   - its alive ephemeral is there but its keepalive sequence has not moved for longer than
//     keepaliveStaleMs (a wedged daemon whose ZooKeeper client still answers pings).
// Only durations measured on the primary's own clock are compared; the node's wall clock
// (updatedAtMs) is never used.
import type { DaemonState, FenceReason } from '../../common/zk/schema.ts';

export interface NodeObservation {
  node: string;
  alive: boolean;
  /** The daemon state the node last wrote; null before its first status. */
  reportedState: DaemonState | null;
  keepaliveSeq: number | null;
  /**
   * The pid of the pvcd that wrote the status: a restarted pvcd counts its sequence from 1 again,
   * so the sequence alone could repeat a value the primary saw from the previous process.
   */
  pid: number | null;
  /** A fence record exists for the node (being fenced, or fenced and not yet returned). */
  fenced: boolean;
  /**
   * The ZooKeeper session holding the node's alive ephemeral (its owner); null when it is gone.
   * A restarted pvcd registers its session before its first status write: until then the status
   * is still the old process's, and only the new session tells that this is a new life.
   */
  aliveSession: string | null;
}

/**
 * When this primary first saw each node's current keepalive sequence (monotonic ms), and the
 * last session it saw holding the node's alive ephemeral.
 */
export type KeepaliveTracker = ReadonlyMap<string, KeepaliveSeen>;

export interface KeepaliveSeen {
  seq: string | null;
  session: string | null;
  sinceMs: number;
}

export interface DeadNode {
  node: string;
  reason: Extract<FenceReason, 'session-lost' | 'keepalive-stale'>;
  detail: string;
  /** The last time (this primary's monotonic ms) the node was seen alive: its keepalive moving. */
  lastSignMs: number;
}

/** States in which a pvcd holds its alive ephemeral and writes its keepalive. */
const LIVE_STATES: ReadonlySet<DaemonState> = new Set(['init', 'run', 'shutdown']);

/**
 * The tracker after one more look. A sequence that changed, a new session holding the alive
 * ephemeral (a new life whose first status write may not have landed yet), or a node seen for the
 * first time starts a new interval at nowMs: a primary that just took over gives every node a
 * full bound. A session that ended starts none: its last sign is when the keepalive last moved.
 */
export function trackKeepalives(previous: KeepaliveTracker, observations: readonly NodeObservation[], nowMs: number): Map<string, KeepaliveSeen> {
  const next = new Map<string, KeepaliveSeen>();
  for (const o of observations) {
    const before = previous.get(o.node);
    const seq = o.keepaliveSeq === null ? null : `${o.pid ?? '-'}/${o.keepaliveSeq}`;
    const session = o.aliveSession ?? before?.session ?? null;
    const newLife = o.aliveSession !== null && o.aliveSession !== before?.session;
    next.set(o.node, before && before.seq === seq && !newLife ? { ...before, session } : { seq, session, sinceMs: nowMs });
  }
  return next;
}

export interface DeadNodeBounds {
  keepaliveStaleMs: number;
}

/** Dead nodes, sorted by name; never `self` (the primary is alive by definition). */
export function findDeadNodes(observations: readonly NodeObservation[], tracker: KeepaliveTracker, nowMs: number, bounds: DeadNodeBounds, self: string): DeadNode[] {
  const dead: DeadNode[] = [];
  for (const o of [...observations].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))) {
    if (o.node === self || o.fenced || o.reportedState === null || !LIVE_STATES.has(o.reportedState)) continue;
    const seen = tracker.get(o.node);
    const lastSignMs = seen?.sinceMs ?? nowMs;
    const quietMs = Math.round(nowMs - lastSignMs);
    if (!o.alive) {
      dead.push({ node: o.node, reason: 'session-lost', lastSignMs, detail: `its alive node is gone while it reported ${o.reportedState}: the zookeeper session of its pvcd ended without a clean stop (keepalive ${o.keepaliveSeq ?? '-'} unchanged for ${quietMs} ms)` });
    } else if (quietMs > bounds.keepaliveStaleMs) {
      dead.push({ node: o.node, reason: 'keepalive-stale', lastSignMs, detail: `its session lives but keepalive ${o.keepaliveSeq ?? '-'} has not moved for ${quietMs} ms (bound ${bounds.keepaliveStaleMs} ms)` });
    }
  }
  return dead;
}
