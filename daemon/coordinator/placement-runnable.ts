// Placement, a primary runnable: gives every VM without a node one, and every running VM of a
// node being flushed another (temporarily: its lastNode remembers where it came from, for
// `pvc node ready`), by the pure planner in common/vm/placement.ts. Watches on the VM and node lists (and a periodic resync) only ask for
// a pass; a pass reads all VMs and nodes, plans, and writes each assignment with compare-and-set
// (so a VM a client changed meanwhile is planned again, not overwritten). A VM that fits nowhere
// gets an `unplaced` child saying why, which the CLI shows.
import { readAllNodeFacts } from '../../common/client/read.ts';
import { readAllVmFacts, type VmFacts } from '../../common/client/vm-read.ts';
import { defaultVmSelectorOf, type VmSpec, type VmState, type ZkLayout } from '../../common/zk/schema.ts';
import { SKIP, isZkError, type ZkStore } from '../../common/zk/store.ts';
import { planPlacement } from '../../common/vm/placement.ts';
import { placementNodes } from '../../common/vm/placement-nodes.ts';
import { Reconciler } from '../runtime/reconciler.ts';
import type { PrimaryContext, Runnable } from './runnables.ts';

const RETRY_DELAY_MS = 1_000;
/** VMs in these desired states are moved off a node that is flushed; stopped ones stay. */
const RUNNING_DESIRED: ReadonlySet<VmState> = new Set(['start', 'restart', 'migrate', 'unmigrate']);

export interface PlacementDeps {
  store: ZkStore;
  layout: ZkLayout;
  resyncIntervalMs: number;
}

export class PlacementRunnable implements Runnable {
  readonly name = 'placement';
  private reconciler: Reconciler | null = null;
  private unwatch: Array<() => void> = [];
  private context: PrimaryContext | null = null;
  private readonly watchedNodes = new Set<string>();

  constructor(private readonly deps: PlacementDeps) {}

  async start(context: PrimaryContext): Promise<void> {
    const { store, layout, resyncIntervalMs } = this.deps;
    this.context = context;
    const reconciler = new Reconciler(() => this.pass(), { name: 'placement', resyncIntervalMs, retryDelayMs: RETRY_DELAY_MS, log: context.log });
    this.reconciler = reconciler;
    const trigger = (): void => reconciler.trigger();
    this.unwatch = [store.watch(layout.vmsDir(), 'children', trigger), store.watch(layout.nodesDir(), 'children', () => void this.watchNodeSpecs(trigger))];
    await this.watchNodeSpecs(trigger);
    reconciler.start();
  }

  /** A node's spec changing (flush, ready) asks for a pass at once, not at the next resync. */
  private async watchNodeSpecs(trigger: () => void): Promise<void> {
    const { store, layout } = this.deps;
    try {
      for (const name of await store.children(layout.nodesDir())) {
        if (this.watchedNodes.has(name)) continue;
        this.watchedNodes.add(name);
        this.unwatch.push(store.watch(layout.node(name), 'data', trigger));
      }
    } catch {
      // The resync covers what a failed listing missed.
    }
    trigger();
  }

  async stop(): Promise<void> {
    for (const unwatch of this.unwatch.splice(0)) unwatch();
    this.watchedNodes.clear();
    await this.reconciler?.stop();
    this.reconciler = null;
    this.context = null;
  }

  /** Asks for a pass now (e.g. a VM was defined); passes also run on list changes and resync. */
  trigger(): void {
    this.reconciler?.trigger();
  }

  private async pass(): Promise<void> {
    const context = this.context;
    if (!context?.stillPrimary()) return;
    const { store, layout } = this.deps;
    const [vms, nodes, cluster] = await Promise.all([readAllVmFacts(store, layout), readAllNodeFacts(store, layout), store.get(layout.clusterInfo())]);
    const flushing = new Set(nodes.filter((n) => n.spec.domainState === 'flush').map((n) => n.spec.name));
    const waiting = vms.filter((vm) => vm.spec.value.node === null || (flushing.has(vm.spec.value.node) && RUNNING_DESIRED.has(vm.spec.value.desiredState)));
    if (waiting.length === 0) return;
    const plan = planPlacement({
      nodes: placementNodes(nodes, vms.map((vm) => vm.spec.value)),
      vms: waiting.map((vm) => ({ vm: vm.spec.value.name, memoryMiB: vm.spec.value.memoryMiB, vcpus: vm.spec.value.vcpus, nodeLimit: vm.spec.value.placement.nodeLimit, selector: vm.spec.value.placement.selector })),
      defaultSelector: cluster ? defaultVmSelectorOf(cluster.value) : 'mem',
    });
    const byName = new Map(waiting.map((vm) => [vm.spec.value.name, vm]));
    for (const { vm, node } of plan.assignments) {
      if (!context.stillPrimary()) return;
      await this.assign(byName.get(vm) as VmFacts, node);
    }
    for (const { vm, reason } of plan.unplaced) {
      if (!context.stillPrimary()) return;
      await this.markUnplaced(byName.get(vm) as VmFacts, reason);
    }
  }

  private async assign(vm: VmFacts, node: string): Promise<void> {
    const { store, layout } = this.deps;
    const current = vm.spec.value;
    const name = current.name;
    // Off a flushing node: a temporary migration, remembering the first node it left.
    const next: VmSpec = current.node === null ? { ...current, node } : { ...current, node, lastNode: current.lastNode ?? current.node, desiredState: 'migrate' };
    const tx = store.transaction().set(layout.vm(name), next, vm.spec.version);
    if (vm.unplaced) tx.remove(layout.vmUnplaced(name));
    try {
      await tx.commit();
      this.context?.log.info({ vm: name, node }, 'placed vm');
    } catch (error) {
      // Changed or removed since the read: the next pass sees the new spec.
      if (isZkError(error, 'BAD_VERSION') || isZkError(error, 'NO_NODE')) {
        this.reconciler?.trigger();
        return;
      }
      throw error;
    }
  }

  private async markUnplaced(vm: VmFacts, reason: string): Promise<void> {
    const { store, layout } = this.deps;
    if (vm.unplaced?.reason === reason) return;
    try {
      await store.update(layout.vmUnplaced(vm.spec.value.name), (current) => (current?.reason === reason ? SKIP : { reason }));
    } catch (error) {
      if (!isZkError(error, 'NO_NODE')) throw error;
    }
    this.context?.log.warn({ vm: vm.spec.value.name, reason }, 'cannot place vm');
  }
}
