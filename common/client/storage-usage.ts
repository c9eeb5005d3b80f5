// Who uses a volume: the VMs whose specs name it as an `rbd` disk (whatever their state: a
// stopped VM still needs its disk to start again), and the clones of its snapshots (RBD
// layering: a clone reads its parent's data, so the parent cannot go while clones exist).
import { volumeRefText, type VolumeRef } from '../storage/refs.ts';
import { readVmNames } from './vm-read.ts';
import type { StorageReadTarget, StorageTarget } from './storage-target.ts';
import { cephStep } from './storage-target.ts';

/** `pool/volume` -> the VMs (sorted) whose spec has it as a disk. */
export async function readVolumeUsers(target: StorageReadTarget): Promise<Map<string, string[]>> {
  const { store, layout } = target;
  const names = await readVmNames(store, layout);
  const specs = await Promise.all(names.map((name) => store.get(layout.vm(name))));
  const users = new Map<string, string[]>();
  for (const spec of specs) {
    for (const disk of spec?.value.disks ?? []) {
      if (disk.source.type !== 'rbd') continue;
      const key = volumeRefText({ pool: disk.source.pool, volume: disk.source.image });
      const list = users.get(key) ?? [];
      if (!list.includes(spec?.value.name as string)) list.push(spec?.value.name as string);
      users.set(key, list.sort());
    }
  }
  return users;
}

export async function vmsUsingVolume(target: StorageReadTarget, ref: VolumeRef): Promise<string[]> {
  return (await readVolumeUsers(target)).get(volumeRefText(ref)) ?? [];
}

/** Every clone of every snapshot of the volume, as Ceph knows them (managed by pvc or not). */
export async function clonesOfVolume(target: StorageTarget, ref: VolumeRef, what: string): Promise<string[]> {
  const snapshots = await cephStep(what, () => target.ceph.listSnapshots(ref.pool, ref.volume));
  const perSnapshot = await Promise.all(
    snapshots.map(async (snapshot) => {
      const clones = await cephStep(what, () => target.ceph.listClones({ pool: ref.pool, image: ref.volume, snapshot: snapshot.name }));
      return clones.map((clone) => `${clone.pool}/${clone.image} (of @${snapshot.name})`);
    }),
  );
  return perSnapshot.flat().sort();
}

/** Names a list in an error message: the first few, and how many more. */
export function listForMessage(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
