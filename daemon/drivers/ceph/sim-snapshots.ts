// Snapshots and clones of the simulated cluster (sim.ts), with real rbd's errors and pvc's clone
// rules: only a protected snapshot is cloned; a snapshot with clones is neither unprotected nor
// removed (busy); a lock held by another client makes snapshot writes fail (busy, rbd's EROFS).
// A snapshot shares the image's bytes at that moment (they are never mutated, only replaced).
import { CephError, type SnapshotRef } from './port.ts';
import type { SimCephState } from './sim-model.ts';

export function createSnapshot(state: SimCephState, ref: SnapshotRef, spec: string): void {
  const image = state.writable('snapshot', ref.pool, ref.image);
  if (image.snapshots.has(ref.snapshot)) throw new CephError('exists', 'snapshot', spec, 'failed to create snapshot: (17) File exists');
  image.snapshots.set(ref.snapshot, { name: ref.snapshot, sizeBytes: image.sizeBytes, protected: false, data: image.data });
}

export function removeSnapshot(state: SimCephState, ref: SnapshotRef, spec: string): void {
  const { image, snapshot } = state.snapshot('snapshot', ref);
  state.refuseWithClones(ref, spec);
  if (snapshot.protected) throw new CephError('busy', 'snapshot', spec, `snapshot '${ref.snapshot}' is protected from removal.`);
  image.snapshots.delete(ref.snapshot);
}

/** Bytes and size go back to the snapshot's (as rbd snap rollback does). */
export function rollbackSnapshot(state: SimCephState, ref: SnapshotRef): void {
  const { snapshot } = state.snapshot('snapshot', ref);
  const image = state.writable('snapshot', ref.pool, ref.image);
  image.data = snapshot.data;
  image.sizeBytes = snapshot.sizeBytes;
}

export function setProtected(state: SimCephState, ref: SnapshotRef, spec: string, protect: boolean): void {
  const { snapshot } = state.snapshot('snapshot', ref);
  if (protect) {
    if (snapshot.protected) throw new CephError('busy', 'snapshot', spec, 'snap is already protected');
  } else {
    state.refuseWithClones(ref, spec);
    if (!snapshot.protected) throw new CephError('invalid', 'snapshot', spec, 'snap is already unprotected');
  }
  snapshot.protected = protect;
}

/** The clone starts with the snapshot's bytes, shared: it owns none until written. */
export function cloneSnapshot(state: SimCephState, source: SnapshotRef, sourceSpec: string, pool: string, name: string): void {
  const { snapshot } = state.snapshot('volume', source);
  if (!snapshot.protected) throw new CephError('invalid', 'volume', sourceSpec, `snapshot ${sourceSpec} is not protected; protect it before cloning`);
  state.addImage('volume', pool, name, snapshot.sizeBytes, snapshot.data, { ...source }, 0);
}
