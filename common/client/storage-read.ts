// Reads of the storage tree shared by the client's storage operations and the primary's status
// refresh. Lists use pipelined gets (every request sent before any answer is awaited), so 1,000
// volumes cost a few round trips' worth of time.
import { PvcError } from '../errors.ts';
import { snapshotRefText, volumeRefText, type SnapshotRef, type VolumeRef } from '../storage/refs.ts';
import { isValidStorageName, type PoolSpec, type PoolStatus, type SnapshotSpec, type SnapshotStatus, type VolumeSpec, type VolumeStatus, type ZRef } from '../zk/schema.ts';
import type { Versioned } from '../zk/store.ts';
import type { StorageReadTarget } from './storage-target.ts';

/** More children than pvc is built for under one storage folder; past it the tree is wrong. */
export const STORAGE_CHILDREN_MAX = 100_000;

export interface PoolFacts {
  spec: Versioned<PoolSpec>;
  status: PoolStatus | null;
}

export interface VolumeFacts {
  spec: Versioned<VolumeSpec>;
  status: VolumeStatus | null;
}

export interface SnapshotFacts {
  spec: Versioned<SnapshotSpec>;
  status: SnapshotStatus | null;
}

/** The child names of a storage folder, each checked against the storage name rule, sorted. */
export async function readStorageNames(target: StorageReadTarget, dir: ZRef<unknown>, kind: string): Promise<string[]> {
  const names = await target.store.children(dir);
  if (names.length > STORAGE_CHILDREN_MAX) throw new PvcError('corrupt', `${dir.path} has ${names.length} children, more than the ${STORAGE_CHILDREN_MAX} pvc supports`);
  for (const name of names) {
    if (!isValidStorageName(name)) throw new PvcError('corrupt', `${dir.path} holds ${JSON.stringify(name)}, which is not a valid ${kind} name`);
  }
  return names.sort();
}

export async function readPool(target: StorageReadTarget, name: string): Promise<PoolFacts | null> {
  const { store, layout } = target;
  const [spec, status] = await Promise.all([store.get(layout.pool(name)), store.get(layout.poolStatus(name))]);
  return spec ? { spec, status: status?.value ?? null } : null;
}

export async function mustReadPool(target: StorageReadTarget, name: string): Promise<PoolFacts> {
  const pool = await readPool(target, name);
  if (!pool) throw new PvcError('not-found', `pool ${name} not found in cluster ${target.layout.cluster} (pvc storage pool list shows the pools pvc manages)`);
  return pool;
}

export async function readAllPools(target: StorageReadTarget): Promise<PoolFacts[]> {
  const names = await readStorageNames(target, target.layout.poolsDir(), 'pool');
  const pools = await Promise.all(names.map((name) => readPool(target, name)));
  // A pool removed between the listing and its read is simply gone.
  return pools.filter((p): p is PoolFacts => p !== null);
}

export async function readVolume(target: StorageReadTarget, ref: VolumeRef): Promise<VolumeFacts | null> {
  const { store, layout } = target;
  const [spec, status] = await Promise.all([store.get(layout.volume(ref.pool, ref.volume)), store.get(layout.volumeStatus(ref.pool, ref.volume))]);
  return spec ? { spec, status: status?.value ?? null } : null;
}

export async function mustReadVolume(target: StorageReadTarget, ref: VolumeRef): Promise<VolumeFacts> {
  const volume = await readVolume(target, ref);
  if (!volume) throw new PvcError('not-found', `volume ${volumeRefText(ref)} not found in cluster ${target.layout.cluster}`);
  return volume;
}

/** Every volume of the given pools (all pools when none are given). */
export async function readAllVolumes(target: StorageReadTarget, pools?: readonly string[]): Promise<VolumeFacts[]> {
  const poolNames = pools ?? (await readStorageNames(target, target.layout.poolsDir(), 'pool'));
  const perPool = await Promise.all(
    poolNames.map(async (pool) => {
      const names = await readStorageNames(target, target.layout.volumesDir(pool), 'volume');
      return Promise.all(names.map((volume) => readVolume(target, { pool, volume })));
    }),
  );
  return perPool.flat().filter((v): v is VolumeFacts => v !== null);
}

/** The volume's snapshots with their statuses, by name; one removed meanwhile is simply gone. */
export async function readSnapshots(target: StorageReadTarget, ref: VolumeRef): Promise<SnapshotFacts[]> {
  const { store, layout } = target;
  const names = await readStorageNames(target, layout.snapshotsDir(ref.pool, ref.volume), 'snapshot');
  const found = await Promise.all(
    names.map(async (snapshot): Promise<SnapshotFacts | null> => {
      const [spec, status] = await Promise.all([store.get(layout.snapshot(ref.pool, ref.volume, snapshot)), store.get(layout.snapshotStatus(ref.pool, ref.volume, snapshot))]);
      return spec ? { spec, status: status?.value ?? null } : null;
    }),
  );
  return found.filter((s): s is SnapshotFacts => s !== null);
}

export async function mustReadSnapshot(target: StorageReadTarget, ref: SnapshotRef): Promise<Versioned<SnapshotSpec>> {
  const found = await target.store.get(target.layout.snapshot(ref.pool, ref.volume, ref.snapshot));
  if (!found) throw new PvcError('not-found', `snapshot ${snapshotRefText(ref)} not found in cluster ${target.layout.cluster}`);
  return found;
}
