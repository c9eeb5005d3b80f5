// High availability as clients (and the primary) touch it: the fault log, the maintenance flag,
// a fence by hand, and the return of a fenced node to service. The fencing itself runs on the
// primary (daemon/coordinator/fencing-runnable.ts).
import { randomBytes } from 'node:crypto';
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import { FAULTS_MAX, type Fault, type FaultKind, type Fence, type Maintenance, type ZkLayout } from '../zk/schema.ts';
import { SKIP, isZkError, type Versioned, type ZkStore } from '../zk/store.ts';

export interface FaultEntry extends Fault {
  id: string;
}

export async function ensureHaDirs(store: ZkStore, layout: ZkLayout): Promise<void> {
  await store.ensure(layout.haDir(), {});
  await store.ensure(layout.faultsDir(), {});
}

/** Appends a fault; past FAULTS_MAX entries the oldest acknowledged ones are removed. */
export async function recordFault(store: ZkStore, layout: ZkLayout, fault: { kind: FaultKind; node: string | null; message: string }): Promise<string> {
  await ensureHaDirs(store, layout);
  const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  await store.create(layout.fault(id), { ...fault, message: fault.message.slice(0, 2_000), atMs: Date.now(), ackedAtMs: null });
  const all = await listFaults(store, layout);
  const excess = all.length - FAULTS_MAX;
  if (excess > 0) {
    for (const old of all.filter((f) => f.ackedAtMs !== null).slice(0, excess)) await store.removeIfPresent(layout.fault(old.id));
  }
  return id;
}

/** Every fault, oldest first. */
export async function listFaults(store: ZkStore, layout: ZkLayout): Promise<FaultEntry[]> {
  const ids = await store.children(layout.faultsDir());
  const read = await Promise.all(ids.map(async (id) => ({ id, doc: await store.get(layout.fault(id)) })));
  return read
    .flatMap(({ id, doc }) => (doc ? [{ id, ...doc.value }] : []))
    .sort((a, b) => a.atMs - b.atMs || (a.id < b.id ? -1 : 1));
}

/** Acknowledges the named faults (all unacknowledged ones when `ids` is 'all'); returns those changed. */
export async function ackFaults(store: ZkStore, layout: ZkLayout, ids: readonly string[] | 'all'): Promise<string[]> {
  const all = await listFaults(store, layout);
  const known = new Set(all.map((f) => f.id));
  if (ids !== 'all') {
    for (const id of ids) if (!known.has(id)) throw new PvcError('not-found', `fault ${JSON.stringify(id)} not found`);
  }
  const wanted = ids === 'all' ? all.filter((f) => f.ackedAtMs === null).map((f) => f.id) : ids;
  const changed: string[] = [];
  for (const id of wanted) {
    await store.update(layout.fault(id), (current) => {
      if (current === undefined || current.ackedAtMs !== null) return SKIP;
      changed.push(id);
      return { ...current, ackedAtMs: Date.now() };
    }).catch((error: unknown) => {
      if (!isZkError(error, 'NO_NODE')) throw error;
    });
  }
  return changed;
}

export async function readMaintenance(store: ZkStore, layout: ZkLayout): Promise<boolean> {
  return (await store.get(layout.maintenance()))?.value.on ?? false;
}

export async function setMaintenance(store: ZkStore, layout: ZkLayout, on: boolean): Promise<Maintenance> {
  await ensureHaDirs(store, layout);
  const doc: Maintenance = { on, changedAtMs: Date.now() };
  await store.update(layout.maintenance(), () => doc);
  return doc;
}

export async function readFence(store: ZkStore, layout: ZkLayout, node: string): Promise<Versioned<Fence> | null> {
  return store.get(layout.nodeFence(assertName('node', node)));
}

/**
 * `pvc node fence NODE`: asks the primary to fence the node now, whatever its liveness (and
 * also while maintenance is on). Refused when a fence of the node is already recorded.
 */
export async function requestFence(store: ZkStore, layout: ZkLayout, node: string, why: string): Promise<Fence> {
  assertName('node', node);
  if (!(await store.get(layout.node(node)))) throw new PvcError('not-found', `node ${JSON.stringify(node)} not found`);
  const fence: Fence = { node, reason: 'manual', detail: why.slice(0, 1_000) || 'fenced by hand (pvc node fence)', by: null, startedAtMs: Date.now(), steps: [], outcome: 'in-progress' };
  try {
    await store.create(layout.nodeFence(node), fence);
  } catch (error) {
    if (isZkError(error, 'NODE_EXISTS')) throw new PvcError('refused', `node ${node} is already fenced or being fenced; \`pvc node ready ${node}\` returns it to service once it runs again`);
    throw error;
  }
  return fence;
}

/**
 * True once the node's own pvcd has seen this fence record and destroyed its VMs under it (it
 * adds a done `self-fence` step). Before that the node may still be cut off, holding a self-fence
 * of its own to record: returned to service then, it would write that record afterwards and be
 * fenced again while VMs were already coming back to it.
 */
export function fenceSeenByNode(fence: Fence): boolean {
  return fence.steps.some((s) => s.step === 'self-fence' && s.result === 'done');
}

/**
 * Returns a fenced node to service: removes its fence record, which its pvcd watches (it then
 * leaves daemon state fenced and runs VMs again). Only once the node runs again and has seen the
 * record, and only when the fence has finished: a node still off, or one whose VMs are not
 * released yet, must stay fenced. Returns false when the node was not fenced.
 */
export async function returnFencedNode(store: ZkStore, layout: ZkLayout, node: string): Promise<boolean> {
  const fence = await readFence(store, layout, node);
  if (!fence) return false;
  if (fence.value.outcome === 'in-progress') throw new PvcError('refused', `node ${node} is still being fenced (${fence.value.steps.map((s) => `${s.step} ${s.result}`).join(', ') || 'no step done yet'}); wait for the fence to finish`);
  if (!(await store.stat(layout.nodeAlive(node)))) throw new PvcError('refused', `node ${node} is fenced and its pvcd is not running; boot the node (its pvcd starts in daemon state fenced), then run this again`);
  if (!fenceSeenByNode(fence.value)) throw new PvcError('refused', `node ${node} runs but its pvcd has not yet confirmed the fence (it does within a second of reaching zookeeper); run this again in a moment`);
  try {
    await store.remove(layout.nodeFence(node), fence.version);
  } catch (error) {
    if (isZkError(error, 'NO_NODE')) return true;
    if (isZkError(error, 'BAD_VERSION')) throw new PvcError('conflict', `the fence record of node ${node} changed meanwhile; run this again`);
    throw error;
  }
  return true;
}
