// `volume snapshot add|remove|rollback|protect|unprotect`. Ceph first, then the spec. A
// protected snapshot cannot be removed (unprotect it first); one with clones cannot be
// unprotected or removed; a rollback is refused while any client has the volume open (a running
// VM writing to it would see its disk change under it).
import { PvcError } from '../errors.ts';
import { snapshotRefText, volumeRefText, type SnapshotRef } from '../storage/refs.ts';
import { assertStorageName, type SnapshotSpec } from '../zk/schema.ts';
import { SKIP, isZkError } from '../zk/store.ts';
import { mustReadSnapshot, mustReadVolume } from './storage-read.ts';
import { cephErrorKind, cephFailed, cephStep, notRecorded, type StorageTarget } from './storage-target.ts';
import { removeTree, snapshotTree } from './storage-tree.ts';
import { listForMessage } from './storage-usage.ts';

function cephRef(ref: SnapshotRef): { pool: string; image: string; snapshot: string } {
  return { pool: ref.pool, image: ref.volume, snapshot: ref.snapshot };
}

async function clonesOf(target: StorageTarget, ref: SnapshotRef, what: string): Promise<string[]> {
  const clones = await cephStep(what, () => target.ceph.listClones(cephRef(ref)));
  return clones.map((c) => `${c.pool}/${c.image}`).sort();
}

export async function addSnapshot(target: StorageTarget, ref: SnapshotRef): Promise<SnapshotSpec> {
  const { store, layout, ceph } = target;
  assertStorageName('snapshot', ref.snapshot);
  await mustReadVolume(target, ref);
  if (await store.stat(layout.snapshot(ref.pool, ref.volume, ref.snapshot))) throw new PvcError('refused', `snapshot ${snapshotRefText(ref)} already exists`);
  const what = `cannot add snapshot ${snapshotRefText(ref)}`;
  try {
    await ceph.createSnapshot(cephRef(ref));
  } catch (error) {
    if (cephErrorKind(error) === 'exists') throw new PvcError('refused', `${what}: ceph already has it, and pvc does not manage it`, { cause: error });
    throw cephFailed(what, error);
  }
  const spec: SnapshotSpec = { name: ref.snapshot, protected: false };
  try {
    await store.create(layout.snapshot(ref.pool, ref.volume, ref.snapshot), spec);
  } catch (error) {
    if (isZkError(error, 'NODE_EXISTS')) throw new PvcError('refused', `snapshot ${snapshotRefText(ref)} was added by someone else at the same time`);
    throw notRecorded(`snapshot ${snapshotRefText(ref)}`, error);
  }
  return spec;
}

export async function removeSnapshot(target: StorageTarget, ref: SnapshotRef): Promise<void> {
  const { ceph } = target;
  const spec = await mustReadSnapshot(target, ref);
  const what = `cannot remove snapshot ${snapshotRefText(ref)}`;
  const inCeph = (await cephStep(what, () => ceph.listSnapshots(ref.pool, ref.volume))).find((s) => s.name === ref.snapshot);
  // A snapshot Ceph lost (IN CEPH no) has no clones and nothing to protect (rbd children would
  // fail on it): only its spec is left to remove.
  const clones = inCeph ? await clonesOf(target, ref, what) : [];
  if (clones.length > 0) throw new PvcError('refused', `${what}: it has clones (${listForMessage(clones)}); remove those first`);
  if (inCeph && (inCeph.protected || spec.value.protected)) {
    throw new PvcError('refused', `${what}: it is protected; unprotect it first (pvc storage volume snapshot unprotect ${snapshotRefText(ref)})`);
  }
  if (inCeph) await cephStep(what, () => ceph.removeSnapshot(cephRef(ref)));
  try {
    // With its status (the primary's), which may be written again until the spec is gone.
    await removeTree(target, `snapshot ${snapshotRefText(ref)}`, async () => snapshotTree(target, ref.pool, ref.volume, ref.snapshot));
  } catch (error) {
    throw notRecorded(`snapshot ${snapshotRefText(ref)} (removed from ceph)`, error);
  }
}

export async function rollbackSnapshot(target: StorageTarget, ref: SnapshotRef): Promise<void> {
  await mustReadSnapshot(target, ref);
  const what = `cannot roll volume ${volumeRefText(ref)} back to @${ref.snapshot}`;
  const watchers = await cephStep(what, () => target.ceph.listWatchers(ref.pool, ref.volume));
  if (watchers.length > 0) {
    throw new PvcError('refused', `${what}: it is open by ${listForMessage(watchers.map((w) => `${w.client} at ${w.address}`))}; stop the vm using it first`);
  }
  await cephStep(what, () => target.ceph.rollbackSnapshot(cephRef(ref)));
}

/** Protects (or unprotects) in Ceph, then records it; doing what is already so changes nothing. */
export async function setSnapshotProtected(target: StorageTarget, ref: SnapshotRef, wanted: boolean): Promise<{ changed: boolean }> {
  const { store, layout, ceph } = target;
  await mustReadSnapshot(target, ref);
  const what = `cannot ${wanted ? 'protect' : 'unprotect'} snapshot ${snapshotRefText(ref)}`;
  const inCeph = (await cephStep(what, () => ceph.listSnapshots(ref.pool, ref.volume))).find((s) => s.name === ref.snapshot);
  if (!inCeph) throw new PvcError('not-found', `${what}: ceph has no such snapshot (pvc has its spec)`);
  if (!wanted && inCeph.protected) {
    const clones = await clonesOf(target, ref, what);
    if (clones.length > 0) throw new PvcError('refused', `${what}: it has clones (${listForMessage(clones)}), which need it; remove those first`);
  }
  const changed = inCeph.protected !== wanted;
  if (changed) await cephStep(what, () => (wanted ? ceph.protectSnapshot(cephRef(ref)) : ceph.unprotectSnapshot(cephRef(ref))));
  try {
    await store.update(layout.snapshot(ref.pool, ref.volume, ref.snapshot), (spec) => {
      if (!spec) throw new PvcError('not-found', `snapshot ${snapshotRefText(ref)} was removed meanwhile`);
      return spec.protected === wanted ? SKIP : { ...spec, protected: wanted };
    });
  } catch (error) {
    throw notRecorded(`snapshot ${snapshotRefText(ref)}`, error);
  }
  return { changed };
}
