// The placement planner, run by the primary: which node each unplaced VM should run on.
// Pure: (nodes, VMs needing a node, cluster default selector) -> assignments + reasons.
//
// Rules, as in PVC: only nodes in daemon state `run` and domain state `ready` receive VMs; a
// VM's node_limit (when not empty) is the set it may use; its selector (or the cluster's
// default) says which of those it prefers:
//   mem      most free memory          memprov  least provisioned memory
//   vcpus    fewest allocated vCPUs    load     lowest load average
//   vms      fewest VMs
// Ties go to the node whose name sorts first. A node never gets more memory than it has free.
//
// Each assignment counts in the next choice (free memory, provisioned memory, vCPUs, load and
// VM count all move), so a batch spreads out instead of piling onto the node that was best
// before the batch. Cost: O(V log V + (V + S) log N), S being the heap entries refreshed or
// moved after an assignment: at most a few per assignment per group that shares the node.
import assert from 'node:assert/strict';
import type { DaemonState, NodeDomainState, VmSelector } from '../zk/schema.ts';
import { MinHeap } from './min-heap.ts';

/**
 * The load a placed VM is assumed to add per vCPU until the node's next keepalive measures it:
 * the pessimistic guess (every vCPU busy), so that `load` spreads a batch instead of sending it
 * all to the node that was idlest before the batch started.
 */
export const PLACED_LOAD_PER_VCPU = 1;

export interface PlacementNode {
  name: string;
  daemonState: DaemonState;
  domainState: NodeDomainState;
  memoryTotalMiB: number;
  /** Memory in use, counting VMs already assigned to the node that have not started yet. */
  memoryUsedMiB: number;
  /** The memory of every VM assigned to the node, running or not. */
  memoryProvisionedMiB: number;
  vcpusAllocated: number;
  /** The 1-minute load average. */
  load: number;
  vmCount: number;
}

export interface PlacementRequest {
  vm: string;
  memoryMiB: number;
  vcpus: number;
  /** Empty: any node. */
  nodeLimit: readonly string[];
  /** null: the cluster's default. */
  selector: VmSelector | null;
}

export interface PlacementInput {
  nodes: readonly PlacementNode[];
  vms: readonly PlacementRequest[];
  defaultSelector: VmSelector;
}

export interface PlacementPlan {
  /** Sorted by VM name. */
  assignments: Array<{ vm: string; node: string }>;
  /** VMs that fit nowhere, with a reason for people; sorted by VM name. */
  unplaced: Array<{ vm: string; reason: string }>;
}

/** The running totals of one node that can receive VMs; `version` moves on every assignment. */
interface Slot {
  index: number;
  name: string;
  freeMiB: number;
  provisionedMiB: number;
  vcpus: number;
  load: number;
  vms: number;
  version: number;
}

interface Entry {
  slot: Slot;
  key: number;
  version: number;
}

/** Lower is better for every selector. */
function keyOf(selector: VmSelector, slot: Slot): number {
  switch (selector) {
    case 'mem': return -slot.freeMiB;
    case 'memprov': return slot.provisionedMiB;
    case 'vcpus': return slot.vcpus;
    case 'load': return slot.load;
    case 'vms': return slot.vms;
    default: {
      const unknown: never = selector;
      throw new Error(`unknown selector ${JSON.stringify(unknown)}`);
    }
  }
}

const entryBefore = (a: Entry, b: Entry): boolean => a.key < b.key || (a.key === b.key && a.slot.index < b.slot.index);

/**
 * VMs with the same selector and node_limit choose among the same nodes in the same order.
 * `heap` orders the nodes with room for the VM at hand by selector; `parked` holds, most free
 * memory first, the nodes that lacked room for an earlier (larger) VM, until a VM small
 * enough for them comes along. A node moves between the two only when its free memory or the
 * VM size changed, so each choice costs O(log N) amortized rather than a scan of every node.
 */
interface Group {
  selector: VmSelector;
  eligible: Slot[];
  heap: MinHeap<Entry>;
  parked: MinHeap<Entry>;
}

function isReady(node: PlacementNode): boolean {
  return node.daemonState === 'run' && node.domainState === 'ready';
}

function checkInput(input: PlacementInput): void {
  const nodeNames = new Set(input.nodes.map((n) => n.name));
  assert.equal(nodeNames.size, input.nodes.length, 'placement: duplicate node names');
  const vmNames = new Set(input.vms.map((v) => v.vm));
  assert.equal(vmNames.size, input.vms.length, 'placement: duplicate vm names');
  for (const n of input.nodes) {
    for (const value of [n.memoryTotalMiB, n.memoryUsedMiB, n.memoryProvisionedMiB, n.vcpusAllocated, n.load, n.vmCount]) {
      assert.ok(Number.isFinite(value) && value >= 0, `placement: node ${n.name} has a bad number ${value}`);
    }
  }
  for (const v of input.vms) assert.ok(v.memoryMiB > 0 && v.vcpus > 0, `placement: vm ${v.vm} needs no memory or no vcpus`);
}

const byFreeMemory = (slot: Slot): number => -slot.freeMiB;

function makeGroup(selector: VmSelector, nodeLimit: readonly string[], ready: readonly Slot[]): Group {
  const allowed = new Set(nodeLimit);
  const eligible = nodeLimit.length === 0 ? [...ready] : ready.filter((slot) => allowed.has(slot.name));
  const heap = new MinHeap<Entry>(entryBefore);
  for (const slot of eligible) heap.push({ slot, key: keyOf(selector, slot), version: slot.version });
  return { selector, eligible, heap, parked: new MinHeap<Entry>(entryBefore) };
}

function noRoomReason(vm: PlacementRequest, group: Group): string {
  let best: Slot | undefined;
  for (const slot of group.eligible) if (!best || slot.freeMiB > best.freeMiB) best = slot;
  return best
    ? `not enough free memory: needs ${vm.memoryMiB} MiB, best node ${best.name} has ${best.freeMiB} MiB`
    : `not enough free memory: needs ${vm.memoryMiB} MiB`;
}

/**
 * The top entry of `heap` once it is current. An entry is stale when an assignment (from any
 * group) moved its node since it was pushed; a node's numbers only get worse, so a stale key
 * is never worse than the true one, and once the top is current it is the true best.
 */
function currentTop(heap: MinHeap<Entry>, key: (slot: Slot) => number): Entry | undefined {
  for (let top = heap.peek(); top; top = heap.peek()) {
    if (top.version === top.slot.version) return top;
    heap.pop();
    heap.push({ slot: top.slot, key: key(top.slot), version: top.slot.version });
  }
  return undefined;
}

/** The best node of the group with room for `vm`, or null. */
function choose(vm: PlacementRequest, group: Group): Slot | null {
  const selectorKey = (slot: Slot): number => keyOf(group.selector, slot);
  // VMs come largest first: parked nodes with room for this (smaller) VM rejoin the choice.
  for (let top = currentTop(group.parked, byFreeMemory); top && top.slot.freeMiB >= vm.memoryMiB; top = currentTop(group.parked, byFreeMemory)) {
    group.parked.pop();
    group.heap.push({ slot: top.slot, key: selectorKey(top.slot), version: top.slot.version });
  }
  for (let top = currentTop(group.heap, selectorKey); top; top = currentTop(group.heap, selectorKey)) {
    if (top.slot.freeMiB >= vm.memoryMiB) return top.slot;
    group.heap.pop();
    group.parked.push({ slot: top.slot, key: byFreeMemory(top.slot), version: top.slot.version });
  }
  return null;
}

function assign(slot: Slot, vm: PlacementRequest): void {
  slot.freeMiB -= vm.memoryMiB;
  slot.provisionedMiB += vm.memoryMiB;
  slot.vcpus += vm.vcpus;
  slot.load += vm.vcpus * PLACED_LOAD_PER_VCPU;
  slot.vms += 1;
  slot.version += 1;
}

export function planPlacement(input: PlacementInput): PlacementPlan {
  checkInput(input);
  const nodes = [...input.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const ready: Slot[] = nodes.filter(isReady).map((n, index) => ({
    index,
    name: n.name,
    freeMiB: Math.max(0, n.memoryTotalMiB - n.memoryUsedMiB),
    provisionedMiB: n.memoryProvisionedMiB,
    vcpus: n.vcpusAllocated,
    load: n.load,
    vms: n.vmCount,
    version: 0,
  }));
  // Largest first (first-fit decreasing packs better, and it is what lets choose() park a
  // node until a smaller VM comes); then by name, so the plan does not depend on input order.
  const vms = [...input.vms].sort((a, b) => b.memoryMiB - a.memoryMiB || (a.vm < b.vm ? -1 : a.vm > b.vm ? 1 : 0));
  const plan: PlacementPlan = { assignments: [], unplaced: [] };
  const groups = new Map<string, Group>();
  for (const vm of vms) {
    if (ready.length === 0) {
      plan.unplaced.push({ vm: vm.vm, reason: `no node in run+ready (${nodes.length} node${nodes.length === 1 ? '' : 's'} known)` });
      continue;
    }
    const selector = vm.selector ?? input.defaultSelector;
    const nodeLimit = [...new Set(vm.nodeLimit)].sort();
    const groupKey = `${selector} ${nodeLimit.join(',')}`;
    let group = groups.get(groupKey);
    if (!group) {
      group = makeGroup(selector, nodeLimit, ready);
      groups.set(groupKey, group);
    }
    if (group.eligible.length === 0) {
      plan.unplaced.push({ vm: vm.vm, reason: `node_limit [${nodeLimit.join(', ')}] excludes every ready node` });
      continue;
    }
    const slot = choose(vm, group);
    if (!slot) {
      plan.unplaced.push({ vm: vm.vm, reason: noRoomReason(vm, group) });
      continue;
    }
    assign(slot, vm);
    plan.assignments.push({ vm: vm.vm, node: slot.name });
  }
  const byVm = (a: { vm: string }, b: { vm: string }) => (a.vm < b.vm ? -1 : a.vm > b.vm ? 1 : 0);
  plan.assignments.sort(byVm);
  plan.unplaced.sort(byVm);
  return plan;
}
