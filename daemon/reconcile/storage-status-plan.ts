// What the primary's storage refresh writes, from what Ceph reported and what pvc has specs for.
// Pure: the runnable (coordinator/storage-status-runnable.ts) reads, calls this, and writes only
// the documents that differ from those stored.
import { isValidStorageName, UNMANAGED_LIST_MAX, HEALTH_CHECK_MAX_CHARS, REFRESH_ERROR_MAX_CHARS } from '../../common/zk/schema.ts';
import type { OsdStatus, PoolStatus, SnapshotStatus, StorageStatus, VolumeStatus } from '../../common/zk/schema.ts';
import type { CephClusterStatus, ListedVolume, OsdInfo, PoolInfo, PoolUsage, SnapshotInfo } from '../drivers/ceph/port.ts';

export interface CephFacts {
  status: CephClusterStatus;
  pools: PoolInfo[];
  usage: PoolUsage[];
  osds: OsdInfo[];
  /** The images (with their snapshots) of each managed pool that Ceph has; pools Ceph lacks are absent. */
  volumesByPool: ReadonlyMap<string, ListedVolume[]>;
}

export interface ManagedSpecs {
  pools: readonly string[];
  volumes: ReadonlyArray<{ pool: string; volume: string }>;
  snapshots: ReadonlyArray<{ pool: string; volume: string; snapshot: string }>;
}

export interface StoragePlan {
  storage: StorageStatus;
  pools: Array<{ pool: string; status: PoolStatus }>;
  volumes: Array<{ pool: string; volume: string; status: VolumeStatus }>;
  snapshots: Array<{ pool: string; volume: string; snapshot: string; status: SnapshotStatus }>;
  osds: OsdStatus[];
}

const HEALTH_CHECK_CODE_MAX_CHARS = 128;

export function planStorageStatus(facts: CephFacts, specs: ManagedSpecs, node: string, nowMs: number): StoragePlan {
  const managedPools = new Set(specs.pools);
  const poolInfo = new Map(facts.pools.map((p) => [p.name, p]));
  const usage = new Map(facts.usage.map((u) => [u.pool, u]));

  const pools = specs.pools.map((pool) => ({ pool, status: poolStatus(poolInfo.get(pool), usage.get(pool), facts.volumesByPool.get(pool)?.length ?? 0) }));

  const managedVolumes = new Set(specs.volumes.map((v) => `${v.pool}/${v.volume}`));
  // By pool/volume: a pool of 1,000 images is looked up once per volume and snapshot, not scanned.
  const listed = new Map([...facts.volumesByPool].flatMap(([pool, images]) => images.map((image): [string, ListedVolume] => [`${pool}/${image.name}`, image])));
  const volumes = specs.volumes.map(({ pool, volume }) => ({ pool, volume, status: volumeStatus(listed.get(`${pool}/${volume}`)) }));
  const snapshots = specs.snapshots.map(({ pool, volume, snapshot }) => {
    const info = listed.get(`${pool}/${volume}`)?.snapshots.find((s) => s.name === snapshot);
    return { pool, volume, snapshot, status: snapshotStatus(info) };
  });

  // Pools pvc could manage (RBD pools with a valid name) that it does not: Ceph's own pools
  // (.mgr, device_health_metrics) are not RBD pools and are left out.
  const unmanagedPools = facts.pools.filter((p) => !managedPools.has(p.name) && p.applications.includes('rbd') && isValidStorageName(p.name)).map((p) => p.name).sort();
  const unmanagedVolumes = [...facts.volumesByPool]
    .flatMap(([pool, images]) => images.map((image) => `${pool}/${image.name}`))
    .filter((key) => !managedVolumes.has(key))
    .sort();

  const s = facts.status;
  const storage: StorageStatus = {
    ceph: {
      fsid: s.fsid,
      health: s.health,
      checks: Object.fromEntries(Object.entries(s.checks).map(([code, summary]) => [code.slice(0, HEALTH_CHECK_CODE_MAX_CHARS), summary.slice(0, HEALTH_CHECK_MAX_CHARS)])),
      monitorsInQuorum: [...s.monitorsInQuorum].sort(),
      osds: s.osds,
      placementGroups: s.placementGroups,
      bytes: s.bytes,
    },
    unmanaged: {
      pools: unmanagedPools.slice(0, UNMANAGED_LIST_MAX),
      volumes: unmanagedVolumes.slice(0, UNMANAGED_LIST_MAX),
      poolCount: unmanagedPools.length,
      volumeCount: unmanagedVolumes.length,
    },
    refreshedAtMs: nowMs,
    lastError: null,
    node,
  };
  const osds = [...facts.osds].sort((a, b) => a.id - b.id).map((o): OsdStatus => ({ id: o.id, up: o.up, in: o.in, weight: o.weight, totalBytes: o.totalBytes, usedBytes: o.usedBytes, placementGroups: o.placementGroups }));
  return { storage, pools, volumes, snapshots, osds };
}

function poolStatus(info: PoolInfo | undefined, usage: PoolUsage | undefined, images: number): PoolStatus {
  if (!info) return { inCeph: false, id: 0, pgNum: 0, size: 0, minSize: 0, storedBytes: 0, usedBytes: 0, maxAvailableBytes: 0, objects: 0, images: 0 };
  return {
    inCeph: true,
    id: info.id,
    pgNum: info.pgNum,
    size: info.size,
    minSize: info.minSize,
    storedBytes: usage?.storedBytes ?? 0,
    usedBytes: usage?.usedBytes ?? 0,
    maxAvailableBytes: usage?.maxAvailableBytes ?? 0,
    objects: usage?.objects ?? 0,
    images,
  };
}

function volumeStatus(info: ListedVolume | undefined): VolumeStatus {
  if (!info) return { inCeph: false, sizeBytes: 0, parent: null, format: 0 };
  const parent = info.parent ? { pool: info.parent.pool, volume: info.parent.image, snapshot: info.parent.snapshot } : null;
  // No features: `rbd ls -l`, the one call for all images of a pool, does not list them.
  return { inCeph: true, sizeBytes: info.sizeBytes, parent, format: info.format };
}

function snapshotStatus(info: SnapshotInfo | undefined): SnapshotStatus {
  if (!info) return { inCeph: false, sizeBytes: 0, protected: false };
  return { inCeph: true, sizeBytes: info.sizeBytes, protected: info.protected };
}

/** The stored status after a failed refresh: the last facts kept, the error said. */
export function failedRefresh(previous: StorageStatus | null, error: string, node: string): StorageStatus {
  return {
    ceph: previous?.ceph ?? null,
    unmanaged: previous?.unmanaged ?? { pools: [], volumes: [], poolCount: 0, volumeCount: 0 },
    refreshedAtMs: previous?.refreshedAtMs ?? null,
    lastError: error.slice(0, REFRESH_ERROR_MAX_CHARS),
    node,
  };
}
