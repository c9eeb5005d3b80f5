// What clients show of VMs: pure derivations from the documents read out of ZooKeeper, and the
// list filters. No IO here, so the rules (which state a VM is shown in, what a filter accepts)
// are tested without a cluster.
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import { VM_STATES, VM_TAG_MAX_CHARS, type VmSpec, type VmState, type VmStats } from '../zk/schema.ts';
import type { VmFacts } from './vm-read.ts';

/**
 * The state a VM is shown in: the one its node reports, or, before any node has reported,
 * `unplaced` (placement has not given it a node, see `unplacedReason`) or `pending` (it has a
 * node, whose pvcd has not written a status yet: just defined, or that pvcd is not running).
 */
export const SHOWN_VM_STATES = [...VM_STATES, 'unplaced', 'pending'] as const;
export type ShownVmState = (typeof SHOWN_VM_STATES)[number];

export interface VmView {
  name: string;
  uuid: string;
  state: ShownVmState;
  desiredState: VmState;
  /** The node that should run it; null until placement gives it one. */
  node: string | null;
  /** Where a temporary migration came from; null otherwise. */
  lastNode: string | null;
  /** The node that wrote the status, which differs from `node` while the VM moves. */
  statusNode: string | null;
  vcpus: number;
  memoryMiB: number;
  tags: string[];
  /** Why the VM is in `fail`; null otherwise. */
  failureReason: string | null;
  /** Why placement could not give it a node; null once placed. */
  unplacedReason: string | null;
  /** The reporting node's wall clock at its last status write; for people, not for comparing. */
  updatedAtMs: number | null;
}

/** `pvc vm info`: the list view plus the rest of the spec. */
export interface VmInfoView extends VmView {
  disks: VmSpec['disks'];
  nics: VmSpec['nics'];
  boot: VmSpec['boot'];
  serial: VmSpec['serial'];
  placement: VmSpec['placement'];
  /** Whether the VM runs from the user's own domain XML instead of pvc's template. */
  rawXml: boolean;
  stats: VmStats | null;
}

export function shownVmState(facts: Pick<VmFacts, 'spec' | 'status'>): ShownVmState {
  if (facts.status) return facts.status.state;
  return facts.spec.value.node === null ? 'unplaced' : 'pending';
}

export function vmView(facts: VmFacts): VmView {
  const spec = facts.spec.value;
  return {
    name: spec.name,
    uuid: spec.uuid,
    state: shownVmState(facts),
    desiredState: spec.desiredState,
    node: spec.node,
    lastNode: spec.lastNode,
    statusNode: facts.status?.node ?? null,
    vcpus: spec.vcpus,
    memoryMiB: spec.memoryMiB,
    tags: [...spec.tags],
    failureReason: facts.status?.failureReason ?? null,
    // Placement removes the reason when it places the VM; a leftover one is not shown as current.
    unplacedReason: spec.node === null ? (facts.unplaced?.reason ?? null) : null,
    updatedAtMs: facts.status?.updatedAtMs ?? null,
  };
}

export function vmInfoView(facts: VmFacts): VmInfoView {
  const spec = facts.spec.value;
  return {
    ...vmView(facts),
    disks: spec.disks,
    nics: spec.nics,
    boot: spec.boot,
    serial: spec.serial,
    placement: spec.placement,
    rawXml: spec.rawXml !== undefined,
    stats: facts.status?.stats ?? null,
  };
}

export interface VmListFilter {
  /** The node the VM is assigned to (spec.node). */
  node?: string;
  /** The shown state. */
  state?: ShownVmState;
  tag?: string;
}

/** Checks filter values as typed by a person; a wrong one is refused, naming it, before any read. */
export function parseVmListFilter(input: { node?: string; state?: string; tag?: string }): VmListFilter {
  const filter: VmListFilter = {};
  if (input.node !== undefined) filter.node = assertName('node', input.node);
  if (input.state !== undefined) {
    if (!(SHOWN_VM_STATES as readonly string[]).includes(input.state)) {
      throw new PvcError('bad-input', `invalid state filter ${JSON.stringify(input.state)}: use one of ${SHOWN_VM_STATES.join(', ')}`);
    }
    filter.state = input.state as ShownVmState;
  }
  if (input.tag !== undefined) {
    if (input.tag.length === 0 || input.tag.length > VM_TAG_MAX_CHARS) {
      throw new PvcError('bad-input', `invalid tag filter ${JSON.stringify(input.tag)}: use 1-${VM_TAG_MAX_CHARS} characters`);
    }
    filter.tag = input.tag;
  }
  return filter;
}

export function matchesVmFilter(view: VmView, filter: VmListFilter): boolean {
  if (filter.node !== undefined && view.node !== filter.node) return false;
  if (filter.state !== undefined && view.state !== filter.state) return false;
  if (filter.tag !== undefined && !view.tags.includes(filter.tag)) return false;
  return true;
}

/** Views of the VMs that pass the filter, sorted by name so every listing comes out the same. */
export function vmViews(facts: readonly VmFacts[], filter: VmListFilter = {}): VmView[] {
  return facts
    .map(vmView)
    .filter((view) => matchesVmFilter(view, filter))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Reported states in which the VM runs nowhere: it may be removed, and a changed spec waits for no restart. */
export const VM_NOT_RUNNING_STATES: ReadonlySet<VmState> = new Set(['stop', 'shutdown', 'disable', 'fail']);

/** Whether the reported status says the VM may be running; no status means no node has run it. */
export function vmMayBeRunning(status: { state: VmState } | null): boolean {
  return status !== null && !VM_NOT_RUNNING_STATES.has(status.state);
}
