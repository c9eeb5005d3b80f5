// The `rbd` disks of a VM spec, checked against the cluster when the spec is written (`vm define`,
// `vm modify`): each must be a volume pvc manages, and a disk of this VM only. A missing volume
// would only show when some node fails to start the VM; one volume in two VMs is two writers of
// one disk, which the start-time lock check (daemon/runtime/rbd-guard.ts) would catch only once
// both try to run. Checked, not locked: two defines racing for one free volume can both pass,
// and the start-time check stays the guard for that case.
import { PvcError } from '../errors.ts';
import { volumeRefText } from '../storage/refs.ts';
import type { VmSpec } from '../zk/schema.ts';
import { listForMessage, readVolumeUsers } from './storage-usage.ts';
import type { VmTarget } from './vm-read.ts';

/**
 * Refuses a spec whose new rbd disks (not in `previous`, the spec it replaces) name a volume
 * that does not exist, that another VM has as a disk, or that the spec names twice.
 */
export async function mustHaveOwnVolumes(target: VmTarget, spec: VmSpec, previous: VmSpec | null): Promise<void> {
  const rbdKeys = (s: VmSpec | null) => (s?.disks ?? []).flatMap((d) => (d.source.type === 'rbd' ? [{ target: d.target, key: volumeRefText({ pool: d.source.pool, volume: d.source.image }), pool: d.source.pool, image: d.source.image }] : []));
  const disks = rbdKeys(spec);
  const seen = new Map<string, string>();
  for (const disk of disks) {
    const first = seen.get(disk.key);
    if (first !== undefined) throw new PvcError('bad-input', `vm ${spec.name}: disks ${first} and ${disk.target} are both volume ${disk.key}; give each disk its own volume`);
    seen.set(disk.key, disk.target);
  }
  const kept = new Set(rbdKeys(previous).map((d) => d.key));
  const added = disks.filter((d) => !kept.has(d.key));
  if (added.length === 0) return;
  const { store, layout } = target;
  const exists = await Promise.all(added.map((d) => store.stat(layout.volume(d.pool, d.image))));
  const missing = added.find((_, i) => exists[i] === null);
  if (missing) {
    throw new PvcError('bad-input', `vm ${spec.name}: disk ${missing.target} is volume ${missing.key}, which does not exist in cluster ${layout.cluster}; make it first (pvc storage volume add, clone or upload)`);
  }
  const users = await readVolumeUsers(target);
  for (const disk of added) {
    const others = (users.get(disk.key) ?? []).filter((name) => name !== spec.name);
    if (others.length > 0) throw new PvcError('refused', `vm ${spec.name}: disk ${disk.target} is volume ${disk.key}, which is already a disk of vm ${listForMessage(others)}; a volume is the disk of one vm only`);
  }
}
