// The storage reads people ask for: status, utilisation, pools, volumes, snapshots, OSDs. All
// from ZooKeeper (specs, and status the primary refreshes from Ceph), so they answer fast and
// work without Ceph access.
import { PvcError } from '../errors.ts';
import type { VolumeRef } from '../storage/refs.ts';
import type { OsdStatus } from '../zk/schema.ts';
import { readAllPools, readAllVolumes, readSnapshots, mustReadPool, mustReadVolume, readStorageNames } from './storage-read.ts';
import { readStorageSettings } from './storage-settings.ts';
import type { StorageReadTarget } from './storage-target.ts';
import { readVolumeUsers } from './storage-usage.ts';
import { osdViews, poolView, snapshotView, volumeInfoView, volumeView, type PoolView, type SnapshotView, type StorageStatusView, type VolumeInfoView, type VolumeView } from './storage-views.ts';

export async function storageStatus(target: StorageReadTarget): Promise<StorageStatusView> {
  const { store, layout } = target;
  const [settings, status, pools] = await Promise.all([readStorageSettings(target), store.get(layout.storageStatus()), readStorageNames(target, layout.poolsDir(), 'pool')]);
  const volumes = await Promise.all(pools.map(async (pool) => (await store.children(layout.volumesDir(pool))).length));
  return { cluster: layout.cluster, settings, pools: pools.length, volumes: volumes.reduce((a, b) => a + b, 0), status: status?.value ?? null };
}

export async function listPools(target: StorageReadTarget): Promise<PoolView[]> {
  const pools = await readAllPools(target);
  const counts = await Promise.all(pools.map(async (p) => (await target.store.children(target.layout.volumesDir(p.spec.value.name))).length));
  return pools.map((pool, i) => poolView(pool, counts[i] ?? 0));
}

export async function listVolumes(target: StorageReadTarget, filter: { pool?: string } = {}): Promise<VolumeView[]> {
  if (filter.pool !== undefined) await mustReadPool(target, filter.pool);
  const [volumes, users] = await Promise.all([readAllVolumes(target, filter.pool === undefined ? undefined : [filter.pool]), readVolumeUsers(target)]);
  return volumes.map((v) => volumeView(v, users));
}

export async function volumeInfo(target: StorageReadTarget, ref: VolumeRef): Promise<VolumeInfoView> {
  const volume = await mustReadVolume(target, ref);
  const [users, snapshots, all] = await Promise.all([readVolumeUsers(target), readSnapshots(target, ref), readAllVolumes(target)]);
  return volumeInfoView(volume, users, snapshots, all);
}

export async function listSnapshots(target: StorageReadTarget, ref: VolumeRef): Promise<SnapshotView[]> {
  await mustReadVolume(target, ref);
  return (await readSnapshots(target, ref)).map(snapshotView);
}

export async function listOsds(target: StorageReadTarget): Promise<OsdStatus[]> {
  const { store, layout } = target;
  const ids = await store.children(layout.osdsDir());
  const found = await Promise.all(
    ids.map((id) => {
      if (!/^\d+$/.test(id)) throw new PvcError('corrupt', `${layout.osdsDir().path} holds ${JSON.stringify(id)}, which is not an osd id`);
      return store.get(layout.osd(Number(id)));
    }),
  );
  return osdViews(found.flatMap((f) => (f ? [f.value] : [])));
}
