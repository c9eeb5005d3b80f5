// What the storage commands show, made from stored documents. Pure: no IO.
import type { OsdStatus, PoolSpec, PoolStatus, SnapshotSpec, SnapshotStatus, StorageSettings, StorageStatus, VolumeSpec, VolumeStatus } from '../zk/schema.ts';
import type { PoolFacts, SnapshotFacts, VolumeFacts } from './storage-read.ts';

export interface PoolView extends PoolSpec {
  volumes: number;
  /** Null until the primary has refreshed the pool's status. */
  status: PoolStatus | null;
  /** stored / (stored + max available), in percent; null without a status. */
  fullnessPercent: number | null;
}

export interface VolumeView {
  pool: string;
  name: string;
  sizeBytes: number;
  /** `pool/volume@snapshot` of the clone parent, or null. */
  parent: string | null;
  /** VMs whose spec names it as a disk. */
  usedBy: string[];
  status: VolumeStatus | null;
}

export interface SnapshotView extends SnapshotSpec {
  /** Null until the primary has refreshed the snapshot's status. */
  status: SnapshotStatus | null;
}

export interface VolumeInfoView extends VolumeView {
  snapshots: SnapshotView[];
  /** Volumes pvc manages that are clones of one of its snapshots. */
  clones: string[];
}

export interface StorageStatusView {
  cluster: string;
  settings: StorageSettings;
  pools: number;
  volumes: number;
  status: StorageStatus | null;
}

export function fullnessPercent(status: PoolStatus | null): number | null {
  if (!status?.inCeph) return null;
  const capacity = status.storedBytes + status.maxAvailableBytes;
  return capacity === 0 ? null : Math.round((status.storedBytes / capacity) * 1000) / 10;
}

export function poolView(pool: PoolFacts, volumes: number): PoolView {
  return { ...pool.spec.value, volumes, status: pool.status, fullnessPercent: fullnessPercent(pool.status) };
}

export function parentText(spec: Pick<VolumeSpec, 'parent'>): string | null {
  return spec.parent ? `${spec.parent.pool}/${spec.parent.volume}@${spec.parent.snapshot}` : null;
}

export function volumeView(volume: VolumeFacts, users: ReadonlyMap<string, string[]>): VolumeView {
  const spec = volume.spec.value;
  return { pool: spec.pool, name: spec.name, sizeBytes: spec.sizeBytes, parent: parentText(spec), usedBy: users.get(`${spec.pool}/${spec.name}`) ?? [], status: volume.status };
}

export function snapshotView(snapshot: SnapshotFacts): SnapshotView {
  return { ...snapshot.spec.value, status: snapshot.status };
}

export function volumeInfoView(volume: VolumeFacts, users: ReadonlyMap<string, string[]>, snapshots: readonly SnapshotFacts[], all: readonly VolumeFacts[]): VolumeInfoView {
  const spec = volume.spec.value;
  const clones = all
    .filter((v) => v.spec.value.parent?.pool === spec.pool && v.spec.value.parent.volume === spec.name)
    .map((v) => `${v.spec.value.pool}/${v.spec.value.name} (of @${v.spec.value.parent?.snapshot})`)
    .sort();
  return { ...volumeView(volume, users), snapshots: snapshots.map(snapshotView), clones };
}

export function osdViews(osds: OsdStatus[]): OsdStatus[] {
  return [...osds].sort((a, b) => a.id - b.id);
}
