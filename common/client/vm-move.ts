// `pvc vm migrate|unmigrate|move`: ask for a VM to run on another node. The nodes do the move
// (daemon/reconcile/vm-plan.ts): live migration when the VM's migration method is `live`, with a
// stop-and-start fallback; stop and start for `shutdown`.
//   migrate   temporary: lastNode remembers where it came from (kept if already set), desired
//             state `migrate` until the new node has it.
//   unmigrate back to lastNode, which is cleared.
//   move      permanent: lastNode cleared.
// Without a target, the node is chosen as placement would (the VM's selector, node_limit, only
// run+ready nodes), leaving out the node the VM is on.
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import { planPlacement } from '../vm/placement.ts';
import { placementNodes } from '../vm/placement-nodes.ts';
import { defaultVmSelectorOf, type VmSpec, type VmState, type ZkLayout } from '../zk/schema.ts';
import { SKIP, type ZkStore } from '../zk/store.ts';
import { readAllNodeFacts } from './read.ts';
import { readAllVmFacts, readVmFacts } from './vm-read.ts';
import { watchUntil, type Verdict } from './watch-until.ts';

export type MoveKind = 'migrate' | 'unmigrate' | 'move';

const RUNNING_DESIRED: ReadonlySet<VmState> = new Set(['start', 'restart', 'migrate', 'unmigrate']);

export interface MoveResult {
  vm: string;
  from: string | null;
  to: string;
  /** Whether the VM runs on `to` (waited for); false when not waiting. */
  done: boolean;
  elapsedMs: number;
}

export interface MoveOptions {
  target?: string;
  waitMs: number;
  /** Told the VM's reported state whenever it changes, while waiting. */
  onProgress?: (line: string) => void;
}

export async function moveVm(store: ZkStore, layout: ZkLayout, name: string, kind: MoveKind, options: MoveOptions): Promise<MoveResult> {
  assertName('vm', name);
  if (options.target !== undefined) assertName('node', options.target);
  const startedAt = Date.now();
  const facts = await readVmFacts(store, layout, name);
  if (!facts) throw new PvcError('not-found', `vm ${JSON.stringify(name)} not found`);
  const spec = facts.spec.value;
  const from = spec.node;
  if (from === null) throw new PvcError('refused', `vm ${name} has no node yet (unplaced); there is nothing to ${kind}`);
  if (kind !== 'move' && spec.placement.migrationMethod === 'none') {
    throw new PvcError('refused', `vm ${name} has migration method "none"; change it or use move while the vm is stopped`);
  }
  const to = kind === 'unmigrate' ? unmigrateTarget(spec) : (options.target ?? (await chooseTarget(store, layout, spec)));
  if (to === from) throw new PvcError('refused', `vm ${name} is already on node ${to}`);
  if (kind !== 'unmigrate' && options.target !== undefined) await checkTarget(store, layout, spec, to);

  await store.update(layout.vm(name), (current): VmSpec | typeof SKIP => {
    if (!current || current.node !== from) throw new PvcError('conflict', `vm ${name} changed node while this request was made; try again`);
    const running = RUNNING_DESIRED.has(current.desiredState);
    const desiredState: VmState = running ? (kind === 'unmigrate' ? 'unmigrate' : 'migrate') : current.desiredState;
    const lastNode = kind === 'migrate' ? (current.lastNode ?? from) : null;
    return { ...current, node: to, lastNode, desiredState };
  });
  const done = options.waitMs > 0 ? await waitOn(store, layout, name, to, options.waitMs, options.onProgress) : false;
  return { vm: name, from, to, done, elapsedMs: Date.now() - startedAt };
}

function unmigrateTarget(spec: VmSpec): string {
  if (spec.lastNode === null) throw new PvcError('refused', `vm ${spec.name} was not migrated (it has no lastNode); use move to change its node`);
  return spec.lastNode;
}

async function chooseTarget(store: ZkStore, layout: ZkLayout, spec: VmSpec): Promise<string> {
  const [nodes, vms, cluster] = await Promise.all([readAllNodeFacts(store, layout), readAllVmFacts(store, layout), store.get(layout.clusterInfo())]);
  const candidates = placementNodes(nodes, vms.map((vm) => vm.spec.value)).filter((n) => n.name !== spec.node);
  const plan = planPlacement({
    nodes: candidates,
    vms: [{ vm: spec.name, memoryMiB: spec.memoryMiB, vcpus: spec.vcpus, nodeLimit: spec.placement.nodeLimit, selector: spec.placement.selector }],
    defaultSelector: cluster ? defaultVmSelectorOf(cluster.value) : 'mem',
  });
  const chosen = plan.assignments[0]?.node;
  if (!chosen) throw new PvcError('refused', `no other node can take vm ${spec.name}: ${plan.unplaced[0]?.reason ?? 'no candidate'}`);
  return chosen;
}

async function checkTarget(store: ZkStore, layout: ZkLayout, spec: VmSpec, target: string): Promise<void> {
  const nodes = await readAllNodeFacts(store, layout);
  const node = nodes.find((n) => n.spec.name === target);
  if (!node) throw new PvcError('not-found', `node ${JSON.stringify(target)} not found`);
  if (!node.status?.hypervisor) throw new PvcError('refused', `node ${target} runs no hypervisor, so it cannot take vm ${spec.name}`);
  if (!node.alive || node.status.daemonState !== 'run') throw new PvcError('refused', `node ${target} is not running (its pvcd is ${node.alive ? node.status.daemonState : 'dead'})`);
  if (node.spec.domainState === 'flush') throw new PvcError('refused', `node ${target} is flushed; run pvc node ready ${target} first`);
  if (spec.placement.nodeLimit.length > 0 && !spec.placement.nodeLimit.includes(target)) {
    throw new PvcError('refused', `node ${target} is not in the node_limit of vm ${spec.name} [${spec.placement.nodeLimit.join(', ')}]`);
  }
}

/** Until the VM's status says it runs on `to` (or, for a stopped VM, that `to` is its node). */
function waitOn(store: ZkStore, layout: ZkLayout, name: string, to: string, waitMs: number, onProgress?: (line: string) => void): Promise<boolean> {
  let last = '';
  return watchUntil({
    store,
    watch: [layout.vm(name), layout.vmStatus(name)],
    read: () => readVmFacts(store, layout, name),
    judge: (facts): Verdict<boolean> => {
      if (!facts) return { kind: 'failed', error: new PvcError('not-found', `vm ${name} was removed while moving`) };
      const { spec, status } = facts;
      const line = `vm ${name}: ${status ? `${status.state} on ${status.node}` : 'no status yet'} (desired ${spec.value.desiredState} on ${spec.value.node ?? 'no node'})`;
      if (line !== last) onProgress?.(line);
      last = line;
      if (status?.node === to && status.state === 'fail') return { kind: 'failed', error: new PvcError('refused', `vm ${name} failed on ${to}: ${status.failureReason ?? 'no reason given'}`) };
      const running = RUNNING_DESIRED.has(spec.value.desiredState);
      const arrived = spec.value.node === to && (!running || (status?.node === to && status.state === 'start' && spec.value.desiredState === 'start'));
      return arrived ? { kind: 'done', value: true } : null;
    },
    waitMs,
    timeoutMessage: () => `vm ${name} is not running on ${to} after ${waitMs} ms; the request stands and goes on`,
  });
}
