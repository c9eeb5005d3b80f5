// What clients show: pure derivations from the raw documents read out of ZooKeeper. No IO here,
// so the rules (a live-looking status without its `alive` ephemeral means dead; only the lock
// holder is primary) are tested without a cluster.
import {
  DAEMON_STATES,
  type CoordinatorState,
  type DaemonState,
  type NodeDesiredDomainState,
  type NodeDomainState,
  type NodeHypervisor,
  type NodeRole,
  type VmSelector,
  type NodeSpec,
  type NodeStatus,
  type Fence,
} from '../zk/schema.ts';

/** What the tree holds about one node, as read; the input of nodeView. */
export interface NodeFacts {
  spec: NodeSpec;
  /** null until the node's pvcd writes its first status. */
  status: NodeStatus | null;
  /** Whether /nodes/<name>/alive exists, i.e. the node's pvcd holds a ZooKeeper session. */
  alive: boolean;
  /** The session that holds /nodes/<name>/alive (its ephemeral owner); null or absent when none. */
  aliveSession?: string | null;
  /** The node's fence record (/nodes/<name>/fence); absent or null when it is not fenced. */
  fence?: Fence | null;
}

export interface NodeView {
  name: string;
  role: NodeRole;
  /** The state to show: the reported one, except a claimed live state without a session is 'dead'. */
  daemonState: DaemonState;
  /** The state to show: 'primary' only for the holder of /coordinator/primary. */
  coordinatorState: CoordinatorState;
  alive: boolean;
  /** The daemon state as the node last wrote it; null when it has written no status yet. */
  reportedDaemonState: DaemonState | null;
  pvcdVersion: string | null;
  pid: number | null;
  /** The node's own wall clock at its last status write; for people, not for comparing. */
  updatedAtMs: number | null;
  host: NodeStatus['host'] | null;
  /** ready (takes VMs), flush (moving them away) or flushed (none left running). */
  domainState: NodeDomainState;
  /** The node's hypervisor; null when it runs no VMs (or has not said yet). */
  hypervisor: NodeHypervisor | null;
  /** Why the node is shown dead or fenced, for people; null when it is neither. */
  deadReason?: string | null;
  /** Its fence record, when one exists. */
  fence?: Fence | null;
  /** Where its BMC answers (never the password); only `nodeInfo` reads it, null when it has none. */
  bmc?: { host: string; port: number; username: string } | null;
}

/** States in which a pvcd holds its `alive` ephemeral; claiming one without it means it died. */
const LIVE_DAEMON_STATES: ReadonlySet<DaemonState> = new Set(['init', 'run', 'shutdown']);

export function shownDaemonState(status: NodeStatus | null, alive: boolean, fence: Fence | null = null): DaemonState {
  // A finished fence shows the node fenced until it returns; while the fence runs it is dead.
  if (fence && (!alive || status?.daemonState === 'fenced')) return fence.outcome === 'in-progress' ? 'dead' : 'fenced';
  if (!status) return 'init';
  if (LIVE_DAEMON_STATES.has(status.daemonState) && !alive) return 'dead';
  return status.daemonState;
}

/**
 * `primaryNode` is the node named in /coordinator/primary (null when nobody holds it). The lock is
 * the truth: a status saying 'primary' may lag behind a handover or belong to a node that died.
 */
export function shownCoordinatorState(spec: NodeSpec, status: NodeStatus | null, primaryNode: string | null): CoordinatorState {
  if (spec.name === primaryNode) return 'primary';
  const reported = status?.coordinatorState ?? (spec.role === 'hypervisor' ? 'client' : 'secondary');
  return reported === 'primary' ? 'secondary' : reported;
}

export function nodeView(facts: NodeFacts, primaryNode: string | null): NodeView {
  const { spec, status, alive } = facts;
  return {
    name: spec.name,
    role: spec.role,
    daemonState: shownDaemonState(status, alive, facts.fence ?? null),
    coordinatorState: shownCoordinatorState(spec, status, primaryNode),
    alive,
    reportedDaemonState: status?.daemonState ?? null,
    pvcdVersion: status?.pvcdVersion ?? null,
    pid: status?.pid ?? null,
    updatedAtMs: status?.updatedAtMs ?? null,
    host: status?.host ?? null,
    domainState: shownDomainState(spec.domainState ?? 'ready', status?.hypervisor?.runningVms),
    hypervisor: status?.hypervisor ?? null,
    // Only when there is something to say, so that views of healthy nodes keep their shape.
    ...(facts.fence ? { fence: facts.fence } : {}),
    ...(deadReasonOf(facts) ? { deadReason: deadReasonOf(facts) } : {}),
  };
}

/** Why a node is dead or fenced: its fence record says; without one, only a lost session can be seen. */
export function deadReasonOf(facts: NodeFacts): string | null {
  const { status, alive, fence } = facts;
  if (fence) {
    const done = fence.steps.map((s) => `${s.step} ${s.result}`).join(', ');
    return `${fence.reason}: ${fence.detail} [fence ${fence.outcome}${done ? `; ${done}` : ''}]`;
  }
  if (status && LIVE_DAEMON_STATES.has(status.daemonState) && !alive) return 'session-lost: its pvcd\'s zookeeper session ended without a clean stop (not fenced yet)';
  return null;
}

/** A flushed node is one asked to flush whose pvcd saw no VM running on it at its last look. */
export function shownDomainState(desired: NodeDesiredDomainState, runningVms: number | undefined): NodeDomainState {
  if (desired === 'ready') return 'ready';
  return runningVms === 0 ? 'flushed' : 'flush';
}

/** Nodes sorted by name, so every listing comes out in the same order. */
export function nodeViews(facts: readonly NodeFacts[], primaryNode: string | null): NodeView[] {
  return facts.map((f) => nodeView(f, primaryNode)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface NodeCounts {
  total: number;
  coordinators: number;
  hypervisors: number;
  /** Every daemon state is present, zero when no node is in it, so the shape never changes. */
  byDaemonState: Record<DaemonState, number>;
}

export function countNodes(views: readonly NodeView[]): NodeCounts {
  const byDaemonState = Object.fromEntries(DAEMON_STATES.map((s) => [s, 0])) as Record<DaemonState, number>;
  let coordinators = 0;
  for (const view of views) {
    byDaemonState[view.daemonState] += 1;
    if (view.role === 'coordinator') coordinators += 1;
  }
  return { total: views.length, coordinators, hypervisors: views.length - coordinators, byDaemonState };
}

/** 'not-serving': it answered, but has no quorum; 'unreachable': it did not answer in time. */
export type ZkServerMode = 'leader' | 'follower' | 'standalone' | 'not-serving' | 'unreachable';

export interface ZkServerView {
  /** host:port as written in the connection. */
  server: string;
  mode: ZkServerMode;
}

export interface ClusterStatusView {
  cluster: string;
  schemaVersion: number;
  /** The node holding /coordinator/primary; null while an election is in progress. */
  primary: string | null;
  nodes: NodeCounts;
  zookeeper: ZkServerView[];
  /** Placement's selector for VMs that name none. */
  defaultVmSelector: VmSelector;
  /** While true the primary starts no fence (`pvc cluster maintenance on`). */
  maintenance?: boolean;
  /** Faults not acknowledged yet (`pvc cluster fault list|ack`), oldest first. */
  faults?: Array<{ id: string; kind: string; node: string | null; message: string; atMs: number }>;
}
