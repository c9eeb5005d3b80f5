// `pvc storage pool add|remove|set`: each acts on Ceph first and records the result in
// ZooKeeper right after. A pool that has volumes is removed only when forced, and never while
// a VM spec uses one of its volumes.
import { PvcError } from '../errors.ts';
import { PoolSpecDoc, assertStorageName, type PoolSpec } from '../zk/schema.ts';
import { isZkError } from '../zk/store.ts';
import { mustReadPool, readAllVolumes } from './storage-read.ts';
import { cephErrorKind, cephFailed, cephStep, notRecorded, type StorageTarget } from './storage-target.ts';
import { poolTree, removeTree } from './storage-tree.ts';
import { listForMessage, readVolumeUsers } from './storage-usage.ts';

/** Ceph's common choice for a small cluster; PVC's default too. */
export const DEFAULT_POOL_PG_NUM = 32;
/** PVC's default replication (copies=3, mincopies=2), lowered to what the cluster's OSDs can hold. */
export const DEFAULT_POOL_SIZE = 3;

export type PoolSettingsInput = Partial<Pick<PoolSpec, 'pgNum' | 'size' | 'minSize'>>;

/** Checks a spec, naming the field and value; nothing is written when it fails. */
export function validPoolSpec(spec: PoolSpec): PoolSpec {
  assertStorageName('pool', spec.name);
  const parsed = PoolSpecDoc.safeParse(spec);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'settings';
    const value = (spec as Record<string, unknown>)[field];
    throw new PvcError('bad-input', `invalid ${field} ${JSON.stringify(value)} for pool ${spec.name}: ${issue?.message ?? 'not valid'}`);
  }
  return parsed.data;
}

/**
 * Replication left out is chosen to fit: size 3 (PVC's default) or the number of OSDs up when
 * fewer, min_size 2 when size is 3 or more, else 1. A pool asked for more replicas than there
 * are OSDs never becomes clean, and one whose min_size is not met blocks all I/O.
 */
async function withDefaults(target: StorageTarget, name: string, input: PoolSettingsInput): Promise<PoolSpec> {
  let size = input.size;
  if (size === undefined) {
    const status = await cephStep(`cannot add pool ${name}`, () => target.ceph.status());
    size = Math.max(1, Math.min(DEFAULT_POOL_SIZE, status.osds.up));
  }
  const minSize = input.minSize ?? Math.min(size, size >= 3 ? 2 : 1);
  return validPoolSpec({ name, pgNum: input.pgNum ?? DEFAULT_POOL_PG_NUM, size, minSize });
}

export async function addPool(target: StorageTarget, name: string, input: PoolSettingsInput = {}): Promise<PoolSpec> {
  const { store, layout, ceph } = target;
  assertStorageName('pool', name);
  validPoolSpec({ name, pgNum: input.pgNum ?? DEFAULT_POOL_PG_NUM, size: input.size ?? 3, minSize: input.minSize ?? 1 });
  if (await store.stat(layout.pool(name))) throw new PvcError('refused', `pool ${name} already exists in cluster ${layout.cluster}`);
  if (!(await store.stat(layout.poolsDir()))) {
    throw new PvcError('refused', `cluster ${layout.cluster} has no storage folder (${layout.poolsDir().path}): start a pvcd of this version once to migrate its schema`);
  }
  const spec = await withDefaults(target, name, input);
  const what = `cannot add pool ${name}`;
  try {
    await ceph.createPool(name, { pgNum: spec.pgNum, size: spec.size, minSize: spec.minSize });
  } catch (error) {
    if (cephErrorKind(error) === 'exists') throw new PvcError('refused', `${what}: ceph already has a pool of that name, which pvc does not manage`, { cause: error });
    throw cephFailed(what, error);
  }
  try {
    await store.transaction().create(layout.pool(name), spec).create(layout.volumesDir(name), {}).commit();
  } catch (error) {
    if (isZkError(error, 'NODE_EXISTS')) throw new PvcError('refused', `pool ${name} was added by someone else at the same time`);
    throw notRecorded(`pool ${name}`, error);
  }
  return spec;
}

export interface RemovePoolResult {
  name: string;
  /** Volumes removed with it (Ceph's list: managed by pvc or not). */
  volumesRemoved: string[];
}

export async function removePool(target: StorageTarget, name: string, options: { force?: boolean } = {}): Promise<RemovePoolResult> {
  const { ceph, layout } = target;
  assertStorageName('pool', name);
  await mustReadPool(target, name);
  const what = `cannot remove pool ${name}`;
  let images: string[] = [];
  try {
    images = (await ceph.listVolumes(name)).map((v) => v.name).sort();
  } catch (error) {
    // Gone from Ceph already (a removal that stopped before ZooKeeper): only the specs are left.
    if (cephErrorKind(error) !== 'not-found') throw cephFailed(what, error);
  }
  const users = await readVolumeUsers(target);
  const used = [...users].filter(([key]) => key.startsWith(`${name}/`)).map(([key, vms]) => `${key} (vm ${vms.join(', ')})`);
  if (used.length > 0) throw new PvcError('refused', `${what}: its volumes are used by vms: ${listForMessage(used)}; remove those disks from the vms first`);
  // Clones in other pools read from this pool's images; removing it would break them.
  const outside = (await readAllVolumes(target))
    .filter((v) => v.spec.value.parent?.pool === name && v.spec.value.pool !== name)
    .map((v) => `${v.spec.value.pool}/${v.spec.value.name}`);
  if (outside.length > 0) throw new PvcError('refused', `${what}: volumes of other pools are clones of its snapshots (${listForMessage(outside)}); remove those first`);
  if (images.length > 0 && !options.force) {
    throw new PvcError('refused', `${what}: it holds ${images.length} volume(s) (${listForMessage(images)}); remove them first, or give --force to remove the pool with all its data`);
  }
  try {
    await ceph.removePool(name);
  } catch (error) {
    if (cephErrorKind(error) !== 'not-found') throw cephFailed(what, error);
  }
  try {
    await removeTree(target, `pool ${name}`, () => poolTree(target, name));
  } catch (error) {
    throw notRecorded(`pool ${name} (removed from ceph; its specs under ${layout.pool(name).path})`, error);
  }
  return { name, volumesRemoved: images };
}

/** Changes pg count, size or min_size in Ceph, then in the spec. */
export async function setPool(target: StorageTarget, name: string, changes: PoolSettingsInput): Promise<PoolSpec> {
  const { store, layout, ceph } = target;
  assertStorageName('pool', name);
  const given = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as PoolSettingsInput;
  if (Object.keys(given).length === 0) throw new PvcError('bad-input', `nothing to change for pool ${name}: give a pg count, size or min_size`);
  const current = await mustReadPool(target, name);
  validPoolSpec({ ...current.spec.value, ...given });
  await cephStep(`cannot change pool ${name}`, () => ceph.setPool(name, given));
  let written: PoolSpec | undefined;
  try {
    written = await store.update(layout.pool(name), (spec) => {
      if (!spec) throw new PvcError('not-found', `pool ${name} was removed while being changed`);
      return { ...spec, ...given };
    });
  } catch (error) {
    throw notRecorded(`pool ${name}`, error);
  }
  return written as PoolSpec;
}
