// `volume remove`: refused while a VM spec names the volume as a disk (whatever the VM's state)
// or while any snapshot of it has clones, which read their data from it. Once those checks pass
// the spec is marked `leaving` (compare-and-set, vm-volumes.ts), so no `vm define` racing it can
// take the volume, and only then is Ceph changed. Its snapshots go with it (unprotected first).
// A volume Ceph no longer has (a removal that stopped before ZooKeeper) just loses its specs.
import { PvcError } from '../errors.ts';
import { volumeRefText, type VolumeRef } from '../storage/refs.ts';
import { cephErrorKind, cephFailed, cephStep, notRecorded, type StorageTarget } from './storage-target.ts';
import { removeTree, volumeTree } from './storage-tree.ts';
import { clonesOfVolume, listForMessage } from './storage-usage.ts';
import { markLeaving, unmarkIfCephRefused } from './vm-volumes.ts';

export interface RemoveVolumeResult {
  pool: string;
  name: string;
  /** Snapshots removed with it. */
  snapshotsRemoved: string[];
  /** False when Ceph had no such image any more (only the specs were left). */
  wasInCeph: boolean;
}

export async function removeVolume(target: StorageTarget, ref: VolumeRef): Promise<RemoveVolumeResult> {
  const { ceph } = target;
  const what = `cannot remove volume ${volumeRefText(ref)}`;
  const inUse = '; remove the disk from those vms (or the vms) first';
  // After the users check, before the mark: the Ceph-side refusals (null: Ceph has no such image).
  const mark = await markLeaving(target, ref, 'remove', what, inUse, async () => {
    let found: Array<{ name: string; protected: boolean }>;
    try {
      found = await ceph.listSnapshots(ref.pool, ref.volume);
    } catch (error) {
      if (cephErrorKind(error) !== 'not-found') throw cephFailed(what, error);
      return null;
    }
    const clones = await clonesOfVolume(target, ref, what);
    if (clones.length > 0) throw new PvcError('refused', `${what}: it has clones (${listForMessage(clones)}); remove those first`);
    return found;
  });
  const snapshots = mark.checked;
  if (snapshots === null) {
    await forgetVolume(target, ref);
    return { pool: ref.pool, name: ref.volume, snapshotsRemoved: [], wasInCeph: false };
  }
  // A failed step leaves the mark: Ceph may have lost part of the volume already (see below).
  for (const snapshot of snapshots) {
    const snap = { pool: ref.pool, image: ref.volume, snapshot: snapshot.name };
    if (snapshot.protected) await cephStep(what, () => ceph.unprotectSnapshot(snap));
    await cephStep(what, () => ceph.removeSnapshot(snap));
  }
  let wasInCeph = true;
  try {
    await ceph.removeVolume(ref.pool, ref.volume);
  } catch (error) {
    if (cephErrorKind(error) !== 'not-found') {
      // Ceph refused outright (busy: open somewhere) and no snapshot went: nothing changed.
      if (snapshots.length === 0) await unmarkIfCephRefused(target, ref, mark, error);
      throw cephFailed(what, error);
    }
    wasInCeph = false;
  }
  await forgetVolume(target, ref);
  return { pool: ref.pool, name: ref.volume, snapshotsRemoved: snapshots.map((s) => s.name).sort(), wasInCeph };
}

async function forgetVolume(target: StorageTarget, ref: VolumeRef): Promise<void> {
  try {
    await removeTree(target, `volume ${volumeRefText(ref)}`, () => volumeTree(target, ref.pool, ref.volume));
  } catch (error) {
    throw notRecorded(`volume ${volumeRefText(ref)} (removed from ceph)`, error);
  }
}
