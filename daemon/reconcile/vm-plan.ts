// What one node's pvcd should do next about one VM: a pure function of the VM's desired state
// (spec), its last reported state (status), what this node's hypervisor shows, and what this
// process remembers of a shutdown in progress. The VM controller applies the step, observes
// again and plans again until the answer is `settled`.
//
// Safety rule: a node starts a VM only when no other node may be running it, that is when the
// status is absent, written by this node, or says the VM is not running. A node that is told the
// VM now belongs elsewhere moves it: by live migration when the VM's migration method is `live`
// (first reporting `migrate`, which keeps the new node from starting it meanwhile), otherwise or
// when live migration failed by stopping it (ACPI, then destroy) and reporting `stop`, which is
// what lets the new node start it.
import type { VmSpec, VmState, VmStatus } from '../../common/zk/schema.ts';

/** What this node's hypervisor shows of the VM's domain. */
export type DomainPresence = 'absent' | 'running' | 'stopped';

export interface VmPlanInput {
  me: string;
  /** null: the VM was removed. */
  spec: VmSpec | null;
  status: VmStatus | null;
  domain: DomainPresence;
  /** When this process pressed the ACPI button for the current shutdown; null when it has not. */
  shutdownPressedAtMs: number | null;
  nowMs: number;
  /** How long a guest gets to power off after the ACPI button before it is destroyed. */
  shutdownTimeoutMs: number;
  /** A live migration of this VM failed since it was assigned elsewhere: fall back to a stop. */
  liveMigrationFailed: boolean;
}

/** Desired states a node moves back to `start` once it has done them. */
export type FinishableState = 'restart' | 'migrate' | 'unmigrate';

export type VmAction =
  | { kind: 'settled' }
  /** Nothing to do now; look again later (a guest powering off, another node letting go). */
  | { kind: 'wait'; reason: string }
  /**
   * (Re)define the domain from the spec and start it; with finishRestart, then move the desired
   * state from restart to start (compare-and-set, so a newer request wins).
   */
  | { kind: 'start'; finish: FinishableState | null }
  /** Live-migrate the running domain to the VM's node, then hand the status over to it. */
  | { kind: 'migrate-live'; target: string }
  | { kind: 'press-acpi' }
  | { kind: 'destroy'; reason: string }
  | { kind: 'undefine' }
  | { kind: 'report'; state: VmState; failureReason: string | null };

/** Desired states in which the VM should run on its node. */
const RUNNING_STATES: ReadonlySet<VmState> = new Set(['start', 'restart', 'migrate', 'unmigrate']);
/** Reported states that mean "not running anywhere". */
const STOPPED_STATES: ReadonlySet<VmState> = new Set(['stop', 'shutdown', 'disable', 'fail']);

export function planVm(input: VmPlanInput): VmAction {
  const { spec, domain } = input;
  if (spec === null) {
    if (domain === 'running') return { kind: 'destroy', reason: 'the vm was removed' };
    if (domain === 'stopped') return { kind: 'undefine' };
    return { kind: 'settled' };
  }
  if (spec.node !== input.me) return planElsewhere(input, spec);
  return planHere(input, spec);
}

/** The VM belongs to another node (or to none yet): it must not run here. */
function planElsewhere(input: VmPlanInput, spec: VmSpec): VmAction {
  if (input.domain === 'running') {
    if (spec.node !== null && spec.placement.migrationMethod === 'live' && !input.liveMigrationFailed) {
      const reported = input.status?.node === input.me && input.status.state === 'migrate';
      return reported ? { kind: 'migrate-live', target: spec.node } : { kind: 'report', state: 'migrate', failureReason: null };
    }
    return stopGracefully(input, `the vm now belongs to ${spec.node ?? 'no node'}`);
  }
  if (input.domain === 'stopped') return { kind: 'undefine' };
  // Let go of the status so that the new node may start it.
  if (input.status?.node === input.me && !STOPPED_STATES.has(input.status.state)) {
    return { kind: 'report', state: 'stop', failureReason: null };
  }
  return { kind: 'settled' };
}

function planHere(input: VmPlanInput, spec: VmSpec): VmAction {
  const { domain, status, me } = input;
  const desired = spec.desiredState;

  if (desired === 'restart') {
    // The reported `restart` marks the restart as under way, so that a pvcd restarted in the
    // middle of it carries on (at worst restarting the guest twice) instead of forgetting it.
    const underWay = status?.node === me && status.state === 'restart';
    if (domain === 'running') return underWay ? stopGracefully(input, 'restart') : { kind: 'report', state: 'restart', failureReason: null };
    return underWay || mayStartHere(input) ? { kind: 'start', finish: 'restart' } : waitForOtherNode(input);
  }

  if (RUNNING_STATES.has(desired)) {
    if (domain === 'running' && status !== null && status.node !== me && status.state === 'migrate') {
      // The domain shows up here while the old node still reports `migrate`: a live migration is
      // coming in (the domain sits paused until it ends). The old node hands the status over.
      return { kind: 'wait', reason: `incoming migration from ${status.node}` };
    }
    if (domain === 'running') {
      return status?.node === me && status.state === 'start' ? { kind: 'settled' } : { kind: 'report', state: 'start', failureReason: null };
    }
    // A start that failed stays failed until someone asks again (which resets the status).
    if (status?.node === me && status.state === 'fail') return { kind: 'settled' };
    const finish = desired === 'migrate' || desired === 'unmigrate' ? desired : null;
    return mayStartHere(input) ? { kind: 'start', finish } : waitForOtherNode(input);
  }

  if (desired === 'stop') {
    if (domain === 'running') return { kind: 'destroy', reason: 'desired state stop' };
    return reportIfChanged(input, 'stop');
  }

  if (desired === 'shutdown' || desired === 'disable') {
    if (domain === 'running') return stopGracefully(input, `desired state ${desired}`);
    return reportIfChanged(input, desired);
  }

  // fail and provision are not asked of a node; nothing to do.
  return { kind: 'settled' };
}

/** ACPI power button first; destroy once the guest has had shutdownTimeoutMs to react. */
function stopGracefully(input: VmPlanInput, why: string): VmAction {
  if (input.shutdownPressedAtMs === null) return { kind: 'press-acpi' };
  if (input.nowMs - input.shutdownPressedAtMs >= input.shutdownTimeoutMs) {
    return { kind: 'destroy', reason: `${why}: the guest did not power off within ${input.shutdownTimeoutMs} ms of the acpi button` };
  }
  return { kind: 'wait', reason: `${why}: waiting for the guest to power off` };
}

function mayStartHere(input: VmPlanInput): boolean {
  const { status, me } = input;
  return status === null || status.node === me || STOPPED_STATES.has(status.state);
}

function waitForOtherNode(input: VmPlanInput): VmAction {
  return { kind: 'wait', reason: `node ${input.status?.node ?? '?'} still reports the vm ${input.status?.state ?? ''}; it must stop it first` };
}

function reportIfChanged(input: VmPlanInput, state: VmState): VmAction {
  const { status, me } = input;
  if (status?.node === me && status.state === state) return { kind: 'settled' };
  // Never take the status from a node that still reports the VM running (a move in progress).
  if (status !== null && status.node !== me && !STOPPED_STATES.has(status.state)) return waitForOtherNode(input);
  return { kind: 'report', state, failureReason: null };
}
