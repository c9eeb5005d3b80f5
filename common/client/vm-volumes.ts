// A volume is the disk of one VM, and a volume a VM has is neither removed nor renamed. This
// module holds both sides of that rule. `vm define` and `vm modify` refuse a new `rbd` disk whose
// volume pvc does not manage (it would only show when a node fails to start the VM) or that
// another VM has (two writers of one disk, which the start-time lock check in
// daemon/runtime/rbd-guard.ts would catch only once both run). `volume remove` and `rename`
// refuse a volume any VM spec names.
//
// The checks are reads of many znodes, so two commands racing could both pass them. What makes
// them safe is that every such command ends its checks with a compare-and-set of the volume's
// spec at the version it read BEFORE it read the VM specs:
//  * a VM spec write that gives a VM a volume reads the volume's spec (refused when missing or
//    marked `leaving`), then the VM specs (refused when another VM has the volume), then commits
//    one multi-op: the VM spec (create, or set at the version read) and the volume's spec
//    rewritten unchanged at the version read;
//  * `volume remove` / `rename` reads the volume's spec, then the VM specs (refused when any VM
//    has it), runs its other checks, then marks the spec `leaving` at the version read, and only
//    then changes Ceph.
// Of two such writes the second fails its version check unless it read after the first; and a
// command that read after the first also reads the VM specs after it, so it sees the VM that
// took the volume (both sides write in one ZooKeeper transaction, and a session's reads never go
// back in time) or the mark. A failed version check runs the command again from its first read,
// which then refuses with the reason. No lock is held: a command that stops leaves at most a mark,
// and the mark stays only once Ceph may have lost the image under that name (running the same
// command again finishes it); a rename that Ceph plainly refused takes its own mark back.
import { PvcError } from '../errors.ts';
import { volumeRefText, type VolumeRef } from '../storage/refs.ts';
import type { VmSpec, VolumeLeaving, VolumeSpec, ZRef } from '../zk/schema.ts';
import { isZkError, type Transaction, type Versioned } from '../zk/store.ts';
import { mustReadVolume } from './storage-read.ts';
import { cephErrorKind, type StorageReadTarget } from './storage-target.ts';
import { listForMessage, readVolumeUsers, vmsUsingVolume } from './storage-usage.ts';

/** Runs of a command from its first read when a volume's spec changed under it. */
export const VOLUME_CAS_MAX_ATTEMPTS = 8;

/** A volume spec as read before the users check, to be rewritten at that version. */
export interface VolumeClaim {
  ref: ZRef<VolumeSpec>;
  spec: Versioned<VolumeSpec>;
}

interface RbdDisk {
  target: string;
  key: string;
  ref: VolumeRef;
}

/** The spec's rbd disks, in order. Pure. */
export function rbdDisks(spec: VmSpec | null): RbdDisk[] {
  return (spec?.disks ?? []).flatMap((d) => {
    if (d.source.type !== 'rbd') return [];
    const ref = { pool: d.source.pool, volume: d.source.image };
    return [{ target: d.target, key: volumeRefText(ref), ref }];
  });
}

/**
 * The rbd disks of `spec` that `previous` (the spec it replaces) does not have; refused when
 * two disks of `spec` are one volume. Pure.
 */
export function addedRbdDisks(spec: VmSpec, previous: VmSpec | null): RbdDisk[] {
  const disks = rbdDisks(spec);
  const seen = new Map<string, string>();
  for (const disk of disks) {
    const first = seen.get(disk.key);
    if (first !== undefined) throw new PvcError('bad-input', `vm ${spec.name}: disks ${first} and ${disk.target} are both volume ${disk.key}; give each disk its own volume`);
    seen.set(disk.key, disk.target);
  }
  const kept = new Set(rbdDisks(previous).map((d) => d.key));
  return disks.filter((d) => !kept.has(d.key));
}

/**
 * The VM side's checks: refuses a spec whose new rbd disks name a volume that does not exist, is
 * leaving, or is another VM's disk. Returns what `claimVolumes` must put into the VM spec's write.
 */
export async function readVolumeClaims(target: StorageReadTarget, spec: VmSpec, previous: VmSpec | null): Promise<VolumeClaim[]> {
  const added = addedRbdDisks(spec, previous);
  if (added.length === 0) return [];
  const { store, layout } = target;
  // The volume specs first, the VM specs after: the order the protocol above rests on.
  const refs = added.map((d) => layout.volume(d.ref.pool, d.ref.volume));
  const specs = await Promise.all(refs.map((ref) => store.get(ref)));
  const claims: VolumeClaim[] = [];
  for (const [i, disk] of added.entries()) {
    const found = specs[i];
    const prefix = `vm ${spec.name}: disk ${disk.target} is volume ${disk.key}, which`;
    if (!found) throw new PvcError('bad-input', `${prefix} does not exist in cluster ${layout.cluster}; make it first (pvc storage volume add, clone or upload)`);
    if (found.value.leaving) {
      throw new PvcError('refused', `${prefix} is being ${found.value.leaving === 'remove' ? 'removed' : 'renamed'} (a volume ${found.value.leaving} is running, or stopped before it finished: run it again)`);
    }
    claims.push({ ref: refs[i] as ZRef<VolumeSpec>, spec: found });
  }
  const users = await readVolumeUsers(target);
  for (const disk of added) {
    const others = (users.get(disk.key) ?? []).filter((name) => name !== spec.name);
    if (others.length > 0) throw new PvcError('refused', `vm ${spec.name}: disk ${disk.target} is volume ${disk.key}, which is already a disk of vm ${listForMessage(others)}; a volume is the disk of one vm only`);
  }
  return claims;
}

/** Adds the claims to the multi-op that writes the VM spec: each volume spec rewritten unchanged at the version read. */
export function claimVolumes(tx: Transaction, claims: readonly VolumeClaim[]): Transaction {
  for (const claim of claims) tx.set(claim.ref, claim.spec.value, claim.spec.version);
  return tx;
}

/** A commit error after which the command runs again from its first read: a version moved on, or a node went. */
export function isVersionRace(error: unknown): boolean {
  return isZkError(error, 'BAD_VERSION') || isZkError(error, 'NO_NODE');
}

export interface LeavingMark {
  /** The spec as it was before the mark. */
  before: Versioned<VolumeSpec>;
  /** The version the mark wrote. */
  version: number;
}

/**
 * The volume side: reads the volume's spec, refuses when a VM spec names it (`inUse` completes
 * the message), runs `check` (the operation's other refusals), then marks the spec `leaving`
 * at the version read; all again from the read when that version moved on meanwhile.
 */
export async function markLeaving<T>(target: StorageReadTarget, ref: VolumeRef, operation: VolumeLeaving, what: string, inUse: string, check: () => Promise<T>): Promise<LeavingMark & { checked: T }> {
  const { store, layout } = target;
  const zref = layout.volume(ref.pool, ref.volume);
  for (let attempt = 1; attempt <= VOLUME_CAS_MAX_ATTEMPTS; attempt += 1) {
    const { spec } = await mustReadVolume(target, ref);
    if (operation === 'rename' && spec.value.leaving === 'remove') throw new PvcError('refused', `${what}: it is being removed (a volume remove is running, or stopped before it finished)`);
    const users = await vmsUsingVolume(target, ref);
    if (users.length > 0) throw new PvcError('refused', `${what}: it is a disk of vm ${listForMessage(users)}${inUse}`);
    const checked = await check();
    try {
      const version = await store.set(zref, { ...spec.value, leaving: operation }, spec.version);
      return { before: spec, version, checked };
    } catch (error) {
      if (!isVersionRace(error)) throw error;
    }
  }
  throw new PvcError('conflict', `${what}: its spec changed ${VOLUME_CAS_MAX_ATTEMPTS} times while checking who uses it`);
}

/** Ceph answered that it did not make the change (not a timeout or an unknown failure). */
function cephRefusedOutright(error: unknown): boolean {
  const kind = cephErrorKind(error);
  return kind === 'busy' || kind === 'exists' || kind === 'invalid' || kind === 'not-found';
}

/** Takes the mark back when `error`, from the operation's first Ceph change, says Ceph changed nothing. */
export async function unmarkIfCephRefused(target: StorageReadTarget, ref: VolumeRef, mark: LeavingMark, error: unknown): Promise<void> {
  if (cephRefusedOutright(error)) await unmarkLeaving(target, ref, mark);
}

/**
 * Takes a mark back after Ceph refused the change outright. Only a mark this command set on an
 * unmarked spec, and only while the spec is still at the mark's version: a later mark (the same
 * command run again elsewhere) may be going ahead, and is left alone.
 */
async function unmarkLeaving(target: StorageReadTarget, ref: VolumeRef, mark: LeavingMark): Promise<void> {
  if (mark.before.value.leaving) return;
  try {
    await target.store.set(target.layout.volume(ref.pool, ref.volume), mark.before.value, mark.version);
  } catch (error) {
    if (!isVersionRace(error)) throw error;
  }
}

/** A spec without its mark, as a renamed volume's new spec starts. */
export function withoutLeaving(spec: VolumeSpec): VolumeSpec {
  const { leaving: _leaving, ...rest } = spec;
  return rest;
}
