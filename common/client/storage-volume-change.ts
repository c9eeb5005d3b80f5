// `volume resize` and `volume rename`. Resize grows freely (within the fullness limit) and
// shrinks only when asked to, since shrinking cuts data off the end. Rename moves the spec
// subtree in one multi-op and updates the clones that name it as parent; it is refused while a
// VM spec uses the volume, since the VM would lose its disk, and marks the spec `leaving` before
// Ceph renames the image, so that no `vm define` racing it takes the old name (vm-volumes.ts).
import { PvcError } from '../errors.ts';
import { volumeRefText, type VolumeRef } from '../storage/refs.ts';
import { formatSize } from '../storage/size.ts';
import type { VolumeSpec } from '../zk/schema.ts';
import { isZkError } from '../zk/store.ts';
import { readAllVolumes, readSnapshots, mustReadVolume } from './storage-read.ts';
import { withReservation } from './storage-reserve.ts';
import { cephFailed, cephStep, notRecorded, type StorageTarget } from './storage-target.ts';
import { assertVolumeSize, mustBeFreeVolume } from './storage-volume-add.ts';
import { markLeaving, unmarkIfCephRefused, withoutLeaving } from './vm-volumes.ts';

/** Reads and multi-ops retried when the tree changed between them. */
export const RENAME_MAX_ATTEMPTS = 8;

export interface ResizeResult {
  spec: VolumeSpec;
  previousSizeBytes: number;
  changed: boolean;
}

export async function resizeVolume(target: StorageTarget, ref: VolumeRef, sizeBytes: number, options: { allowShrink?: boolean } = {}): Promise<ResizeResult> {
  const { ceph, store, layout } = target;
  assertVolumeSize(ref, sizeBytes);
  const facts = await mustReadVolume(target, ref);
  const what = `cannot resize volume ${volumeRefText(ref)} to ${formatSize(sizeBytes)}`;
  const current = (await cephStep(what, () => ceph.volumeInfo(ref.pool, ref.volume))).sizeBytes;
  if (sizeBytes === current && facts.spec.value.sizeBytes === current) return { spec: facts.spec.value, previousSizeBytes: current, changed: false };
  if (sizeBytes < current && !options.allowShrink) {
    throw new PvcError('refused', `${what}: it is ${formatSize(current)}, and shrinking cuts off the data at its end; give --allow-shrink if that is meant`);
  }
  const apply = async (): Promise<ResizeResult> => {
    if (sizeBytes !== current) await cephStep(what, () => ceph.resizeVolume(ref.pool, ref.volume, sizeBytes, sizeBytes < current));
    let spec: VolumeSpec | undefined;
    try {
      spec = await store.update(layout.volume(ref.pool, ref.volume), (old) => {
        if (!old) throw new PvcError('not-found', `volume ${volumeRefText(ref)} was removed while being resized`);
        return { ...old, sizeBytes };
      });
    } catch (error) {
      throw notRecorded(`volume ${volumeRefText(ref)} (resized)`, error);
    }
    return { spec: spec as VolumeSpec, previousSizeBytes: current, changed: true };
  };
  if (sizeBytes <= current) return apply();
  return withReservation(target, { pool: ref.pool, volume: ref.volume, bytes: sizeBytes - current, operation: 'resize' }, what, apply);
}

export async function renameVolume(target: StorageTarget, ref: VolumeRef, newName: string): Promise<VolumeSpec> {
  const dest = { pool: ref.pool, volume: newName };
  await mustReadVolume(target, ref);
  await mustBeFreeVolume(target, dest);
  const what = `cannot rename volume ${volumeRefText(ref)} to ${newName}`;
  const mark = await markLeaving(target, ref, 'rename', what, ', which would lose it; change those vms first', async () => undefined);
  try {
    await target.ceph.renameVolume(ref.pool, ref.volume, newName);
  } catch (error) {
    await unmarkIfCephRefused(target, ref, mark, error);
    throw cephFailed(what, error);
  }
  try {
    return await moveSpecs(target, ref, newName);
  } catch (error) {
    throw notRecorded(`volume ${volumeRefText(ref)} (renamed to ${newName} in ceph)`, error);
  }
}

/** One multi-op: the new subtree created, the old removed, clones pointed at the new name. */
async function moveSpecs(target: StorageTarget, ref: VolumeRef, newName: string): Promise<VolumeSpec> {
  const { store, layout } = target;
  for (let attempt = 1; attempt <= RENAME_MAX_ATTEMPTS; attempt += 1) {
    const [facts, snapshots, all] = await Promise.all([mustReadVolume(target, ref), readSnapshots(target, ref), readAllVolumes(target)]);
    const moved: VolumeSpec = { ...withoutLeaving(facts.spec.value), name: newName };
    const tx = store.transaction().create(layout.volume(ref.pool, newName), moved).create(layout.snapshotsDir(ref.pool, newName), {});
    for (const { spec } of snapshots) tx.create(layout.snapshot(ref.pool, newName, spec.value.name), spec.value);
    // Statuses are not moved: the next refresh writes them under the new name, as the volume's.
    for (const { spec, status } of snapshots) {
      if (status) tx.remove(layout.snapshotStatus(ref.pool, ref.volume, spec.value.name));
      tx.remove(layout.snapshot(ref.pool, ref.volume, spec.value.name), spec.version);
    }
    tx.remove(layout.snapshotsDir(ref.pool, ref.volume));
    if (facts.status) tx.remove(layout.volumeStatus(ref.pool, ref.volume));
    tx.remove(layout.volume(ref.pool, ref.volume), facts.spec.version);
    for (const clone of all) {
      const parent = clone.spec.value.parent;
      if (parent?.pool !== ref.pool || parent.volume !== ref.volume) continue;
      tx.set(layout.volume(clone.spec.value.pool, clone.spec.value.name), { ...clone.spec.value, parent: { ...parent, volume: newName } }, clone.spec.version);
    }
    try {
      await tx.commit();
      return moved;
    } catch (error) {
      // Something changed since the reads (a status written, a snapshot added): read again.
      if (isZkError(error, 'BAD_VERSION') || isZkError(error, 'NO_NODE') || isZkError(error, 'NOT_EMPTY')) continue;
      throw error;
    }
  }
  throw new PvcError('conflict', `gave up recording the rename of volume ${volumeRefText(ref)}: it changed ${RENAME_MAX_ATTEMPTS} times meanwhile`);
}
