// `pvc storage volume clone SNAPSHOT VOLUME...`: many copy-on-write clones of one snapshot in one
// call, as when a golden image becomes the disks of a batch of VMs. Every destination is checked
// before the first clone (bad input changes nothing); each clone is then independent, run a
// bounded number at once, and its outcome reported on its own: a failed one does not undo the others.
import { forEachLimited } from '../concurrency.ts';
import { PvcError, errorMessage } from '../errors.ts';
import { volumeRefText, type SnapshotRef, type VolumeRef } from '../storage/refs.ts';
import { cloneVolume } from './storage-volume-add.ts';
import type { StorageTarget } from './storage-target.ts';

/** Clones in flight at once: each costs 2-4 short-lived rbd/ceph processes (reads of the shared source joined). */
export const CLONE_BATCH_CONCURRENCY = 16;
/** Destinations one call takes. */
export const CLONE_BATCH_MAX = 1_000;

export type CloneOutcome =
  | { volume: string; cloned: true; protectedSource: boolean }
  | { volume: string; cloned: false; error: string };

export async function cloneMany(target: StorageTarget, source: SnapshotRef, dests: readonly VolumeRef[]): Promise<CloneOutcome[]> {
  if (dests.length === 0) throw new PvcError('bad-input', 'no volume to clone to: name at least one pool/volume');
  if (dests.length > CLONE_BATCH_MAX) throw new PvcError('bad-input', `${dests.length} volumes to clone to: at most ${CLONE_BATCH_MAX} in one call`);
  const seen = new Set<string>();
  for (const dest of dests) {
    const text = volumeRefText(dest);
    if (seen.has(text)) throw new PvcError('bad-input', `volume ${text} is named twice`);
    seen.add(text);
  }
  const outcomes: CloneOutcome[] = new Array(dests.length);
  await forEachLimited(dests, CLONE_BATCH_CONCURRENCY, async (dest, index) => {
    const volume = volumeRefText(dest);
    try {
      const result = await cloneVolume(target, source, dest);
      outcomes[index] = { volume, cloned: true, protectedSource: result.protectedSource };
    } catch (error) {
      outcomes[index] = { volume, cloned: false, error: errorMessage(error) };
    }
  });
  return outcomes;
}
