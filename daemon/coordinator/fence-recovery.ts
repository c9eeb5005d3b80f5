// The last step of a fence: release the fenced node's VMs. Only the fencer may do this, and only
// after the fence succeeded (power off confirmed, the node destroyed its own VMs, or policy
// `recover` after the blocklist and the self-fence bound): it rewrites the status of every VM the
// node last reported running to `stop` in the node's name, which is what the safety rule of
// reconcile/vm-plan.ts needs before another node may start the VM. In the same multi-op each VM
// that should run gets a new node from the placement planner (lastNode keeps the fenced node,
// so `pvc vm unmigrate` and `pvc node ready` bring it back later); a VM that fits nowhere is
// reported `fail` with the reason. Idempotent: a VM already released is not touched again.
import type { Logger } from 'pino';
import { readAllNodeFacts } from '../../common/client/read.ts';
import { readAllVmFacts, type VmFacts } from '../../common/client/vm-read.ts';
import { planPlacement } from '../../common/vm/placement.ts';
import { placementNodes } from '../../common/vm/placement-nodes.ts';
import { defaultVmSelectorOf, type VmSpec, type VmState, type VmStatus, type ZkLayout } from '../../common/zk/schema.ts';
import { isZkError, type ZkStore } from '../../common/zk/store.ts';

/** VM releases written at once: enough to restart a node's VMs in one go, bounded for ZooKeeper. */
export const RELEASE_CONCURRENCY = 8;
/** Passes over the node's VMs when clients changed some meanwhile (compare-and-set conflicts). */
const RELEASE_PASSES = 5;

const RUNNING_DESIRED: ReadonlySet<VmState> = new Set(['start', 'restart', 'migrate', 'unmigrate']);
const STOPPED_REPORTED: ReadonlySet<VmState> = new Set(['stop', 'shutdown', 'disable', 'fail']);

export interface ReleaseResult {
  restarted: Array<{ vm: string; node: string }>;
  unplaced: Array<{ vm: string; reason: string }>;
  /** VMs whose status was let go but that should not run (or run on another node already). */
  released: string[];
}

/** Whether the fenced node still holds the VM: its status says running there, or it should run there. */
export function heldBy(node: string, spec: VmSpec, status: VmStatus | null): boolean {
  const reportedRunning = status !== null && status.node === node && !STOPPED_REPORTED.has(status.state);
  return reportedRunning || (spec.node === node && RUNNING_DESIRED.has(spec.desiredState) && !(status?.node === node && status.state === 'fail'));
}

/** `stillPrimary` is asked before each write: a primary that lost its lease stops (a new one finishes). */
export async function releaseVms(store: ZkStore, layout: ZkLayout, node: string, fencedNodes: ReadonlySet<string>, stillPrimary: () => boolean, log: Logger): Promise<ReleaseResult> {
  const result: ReleaseResult = { restarted: [], unplaced: [], released: [] };
  for (let pass = 0; pass < RELEASE_PASSES; pass += 1) {
    const [vms, nodes, cluster] = await Promise.all([readAllVmFacts(store, layout), readAllNodeFacts(store, layout), store.get(layout.clusterInfo())]);
    const held = vms.filter((vm) => heldBy(node, vm.spec.value, vm.status));
    if (held.length === 0) return result;
    const toPlace = held.filter((vm) => vm.spec.value.node === node && RUNNING_DESIRED.has(vm.spec.value.desiredState));
    const plan = planPlacement({
      nodes: placementNodes(nodes.filter((n) => n.spec.name !== node && !fencedNodes.has(n.spec.name)), vms.map((vm) => vm.spec.value)),
      vms: toPlace.map((vm) => ({ vm: vm.spec.value.name, memoryMiB: vm.spec.value.memoryMiB, vcpus: vm.spec.value.vcpus, nodeLimit: vm.spec.value.placement.nodeLimit, selector: vm.spec.value.placement.selector })),
      defaultSelector: cluster ? defaultVmSelectorOf(cluster.value) : 'mem',
    });
    const target = new Map(plan.assignments.map((a) => [a.vm, a.node]));
    const reason = new Map(plan.unplaced.map((u) => [u.vm, u.reason]));
    let conflicts = 0;
    const queue = [...held];
    const worker = async (): Promise<void> => {
      for (let vm = queue.shift(); vm && stillPrimary(); vm = queue.shift()) {
        const name = vm.spec.value.name;
        const outcome = await releaseOne(store, layout, node, vm, target.get(name) ?? null, reason.get(name) ?? null);
        if (outcome === 'conflict') conflicts += 1;
        else if (outcome === 'restarted') result.restarted.push({ vm: name, node: target.get(name) as string });
        else if (outcome === 'unplaced') result.unplaced.push({ vm: name, reason: reason.get(name) as string });
        else result.released.push(name);
      }
    };
    await Promise.all(Array.from({ length: Math.min(RELEASE_CONCURRENCY, held.length) }, worker));
    if (conflicts === 0 || !stillPrimary()) return result;
    log.info({ node, conflicts }, 'fence: vms changed while being released; another pass');
  }
  return result;
}

type ReleaseOutcome = 'restarted' | 'unplaced' | 'released' | 'conflict';

async function releaseOne(store: ZkStore, layout: ZkLayout, node: string, vm: VmFacts, target: string | null, unplacedReason: string | null): Promise<ReleaseOutcome> {
  const spec = vm.spec.value;
  const name = spec.name;
  const status = await store.get(layout.vmStatus(name));
  const now = Date.now();
  const tx = store.transaction();
  let outcome: ReleaseOutcome = 'released';
  if (target !== null) {
    // A recovery is a restart elsewhere, not a move: the desired state goes back to start.
    const next: VmSpec = { ...spec, node: target, lastNode: spec.lastNode ?? node, desiredState: 'start' };
    tx.set(layout.vm(name), next, vm.spec.version);
    outcome = 'restarted';
  } else {
    tx.check(layout.vm(name), vm.spec.version);
    if (unplacedReason !== null) outcome = 'unplaced';
  }
  const state: VmState = outcome === 'unplaced' ? 'fail' : 'stop';
  const failureReason = outcome === 'unplaced' ? `node ${node} was fenced and no node can take the vm: ${unplacedReason}` : null;
  const doc: VmStatus = { state, node, failureReason, stats: null, updatedAtMs: now };
  if (status && status.value.node === node) tx.set(layout.vmStatus(name), doc, status.version);
  else if (!status && outcome === 'unplaced') tx.create(layout.vmStatus(name), doc);
  else if (status) tx.check(layout.vmStatus(name), status.version);
  try {
    await tx.commit();
    return outcome;
  } catch (error) {
    if (isZkError(error, 'BAD_VERSION') || isZkError(error, 'NO_NODE') || isZkError(error, 'NODE_EXISTS')) return 'conflict';
    throw error;
  }
}
