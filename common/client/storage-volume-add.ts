// `volume add` and `volume clone`: new volumes in a pool pvc manages. Each holds a reservation
// for its provisioned size while the fullness rule is checked and Ceph makes the image, then
// records the spec (with an empty snapshots folder) in one multi-op.
import { PvcError } from '../errors.ts';
import { formatSize } from '../storage/size.ts';
import { snapshotRefText, volumeRefText, type SnapshotRef, type VolumeRef } from '../storage/refs.ts';
import { VOLUME_MAX_SIZE_BYTES, VOLUME_MIN_SIZE_BYTES, assertStorageName, type VolumeSpec } from '../zk/schema.ts';
import { isZkError } from '../zk/store.ts';
import { mustReadPool, mustReadSnapshot, mustReadVolume } from './storage-read.ts';
import { withReservation } from './storage-reserve.ts';
import { joinInFlight } from './storage-shared-reads.ts';
import { cephErrorKind, cephFailed, cephStep, notRecorded, type StorageReadTarget, type StorageTarget } from './storage-target.ts';

export function assertVolumeSize(ref: VolumeRef, sizeBytes: number): void {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < VOLUME_MIN_SIZE_BYTES || sizeBytes > VOLUME_MAX_SIZE_BYTES) {
    throw new PvcError('bad-input', `invalid size ${sizeBytes} bytes for volume ${volumeRefText(ref)}: use ${formatSize(VOLUME_MIN_SIZE_BYTES)} to ${formatSize(VOLUME_MAX_SIZE_BYTES)}`);
  }
}

/** The pool must be one pvc manages and the name free in it. */
export async function mustBeFreeVolume(target: StorageReadTarget, ref: VolumeRef): Promise<void> {
  assertStorageName('pool', ref.pool);
  assertStorageName('volume', ref.volume);
  await mustReadPool(target, ref.pool);
  if (await target.store.stat(target.layout.volume(ref.pool, ref.volume))) {
    throw new PvcError('refused', `volume ${volumeRefText(ref)} already exists in cluster ${target.layout.cluster}`);
  }
}

/** A Ceph 'exists' while pvc has no spec: an image made outside pvc, or left by an interrupted operation. */
export function cephImageExists(what: string, ref: VolumeRef, error: unknown): PvcError {
  return new PvcError('refused', `${what}: ceph already has an image ${volumeRefText(ref)}, which pvc does not manage (made outside pvc, or left by an interrupted operation)`, { cause: error });
}

/** Writes the spec of a volume Ceph has just made. */
export async function recordVolume(target: StorageReadTarget, spec: VolumeSpec): Promise<void> {
  const { store, layout } = target;
  try {
    await store.transaction().create(layout.volume(spec.pool, spec.name), spec).create(layout.snapshotsDir(spec.pool, spec.name), {}).commit();
  } catch (error) {
    if (isZkError(error, 'NODE_EXISTS')) throw new PvcError('refused', `volume ${spec.pool}/${spec.name} was recorded by someone else at the same time`);
    throw notRecorded(`volume ${spec.pool}/${spec.name}`, error);
  }
}

export async function addVolume(target: StorageTarget, ref: VolumeRef, sizeBytes: number): Promise<VolumeSpec> {
  assertVolumeSize(ref, sizeBytes);
  await mustBeFreeVolume(target, ref);
  const what = `cannot add volume ${volumeRefText(ref)}`;
  return withReservation(target, { pool: ref.pool, volume: ref.volume, bytes: sizeBytes, operation: 'add' }, what, async () => {
    try {
      await target.ceph.createVolume(ref.pool, ref.volume, sizeBytes);
    } catch (error) {
      if (cephErrorKind(error) === 'exists') throw cephImageExists(what, ref, error);
      throw cephFailed(what, error);
    }
    const spec: VolumeSpec = { name: ref.volume, pool: ref.pool, sizeBytes, parent: null };
    await recordVolume(target, spec);
    return spec;
  });
}

export interface CloneResult {
  spec: VolumeSpec;
  /** True when this clone protected the source snapshot (a clone needs it protected). */
  protectedSource: boolean;
}

/**
 * A copy-on-write clone (RBD layering) of a snapshot pvc manages. The snapshot is protected first
 * when it is not yet; the clone's full size counts against its pool's fullness limit, as any new
 * volume's does, since it may diverge from its parent until it holds all its own data.
 */
/**
 * Protects the clone's source snapshot; true when this call protected it. Many clones of one
 * fresh golden image start at once and all see it unprotected: a protect that fails because
 * another one got there first (Ceph now lists it protected) is that other clone's, not an error.
 */
async function protectForClone(target: StorageTarget, image: { pool: string; image: string; snapshot: string }, what: string): Promise<boolean> {
  try {
    await target.ceph.protectSnapshot(image);
    return true;
  } catch (error) {
    const now = await cephStep(what, () => target.ceph.listSnapshots(image.pool, image.image)).catch(() => []);
    if (now.some((s) => s.name === image.snapshot && s.protected)) return false;
    throw cephFailed(what, error);
  }
}

export async function cloneVolume(target: StorageTarget, source: SnapshotRef, dest: VolumeRef): Promise<CloneResult> {
  const { ceph, store, layout } = target;
  await mustReadVolume(target, source);
  const snapshotSpec = await mustReadSnapshot(target, source);
  await mustBeFreeVolume(target, dest);
  const what = `cannot clone ${snapshotRefText(source)} to ${volumeRefText(dest)}`;
  const image = { pool: source.pool, image: source.volume, snapshot: source.snapshot };
  // Many clones of one golden image at once ask this together (storage-shared-reads.ts).
  const snapshots = await cephStep(what, () => joinInFlight(ceph, `snapshots ${source.pool}/${source.volume}`, () => ceph.listSnapshots(source.pool, source.volume)));
  const inCeph = snapshots.find((s) => s.name === source.snapshot);
  if (!inCeph) throw new PvcError('not-found', `${what}: ceph has no snapshot ${snapshotRefText(source)} (pvc has its spec)`);
  const sizeBytes = Math.max(1, inCeph.sizeBytes);
  // Protected only once the fullness rule let the clone through: a refused clone changes nothing.
  return withReservation(target, { pool: dest.pool, volume: dest.volume, bytes: sizeBytes, operation: 'clone' }, what, async () => {
    const protectedSource = !inCeph.protected && (await protectForClone(target, image, what));
    if (!snapshotSpec.value.protected || protectedSource) {
      try {
        await store.update(layout.snapshot(source.pool, source.volume, source.snapshot), (spec) => (spec ? { ...spec, protected: true } : { name: source.snapshot, protected: true }));
      } catch (error) {
        throw notRecorded(`snapshot ${snapshotRefText(source)} (protected)`, error);
      }
    }
    try {
      await ceph.cloneVolume(image, dest.pool, dest.volume);
    } catch (error) {
      if (cephErrorKind(error) === 'exists') throw cephImageExists(what, dest, error);
      throw cephFailed(what, error);
    }
    const spec: VolumeSpec = { name: dest.volume, pool: dest.pool, sizeBytes, parent: { pool: source.pool, volume: source.volume, snapshot: source.snapshot } };
    await recordVolume(target, spec);
    return { spec, protectedSource };
  });
}
