// Storage names and limits, without zod: the CLI loads this for every command (to check
// arguments before connecting), and zod costs tens of milliseconds to load.
import { PvcError } from '../errors.ts';

/**
 * Pool, volume and snapshot names: what Ceph and RBD accept and what can be a znode name, the
 * same rule as an `rbd` disk source of a VM spec. No `/` or `@` (they separate pool/volume@snapshot
 * on the command line), and a letter or digit first (so never `.` or `..`).
 */
export const STORAGE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
export const STORAGE_NAME_RULE = "use 1-255 letters, digits, '.', '_' and '-', starting with a letter or digit";
export type StorageNameKind = 'pool' | 'volume' | 'snapshot';

export function isValidStorageName(value: string): boolean {
  return STORAGE_NAME_PATTERN.test(value);
}

export function assertStorageName(kind: StorageNameKind, value: unknown): string {
  if (typeof value !== 'string' || !isValidStorageName(value)) {
    throw new PvcError('bad-input', `invalid ${kind} name ${JSON.stringify(value)}: ${STORAGE_NAME_RULE}`);
  }
  return value;
}

/** Ceph refuses more placement groups per pool than this by default (mon_max_pool_pg_num). */
export const POOL_PG_NUM_MAX = 65_536;
/** Replicas per object; Ceph's own limit is 10. */
export const POOL_SIZE_MAX = 10;
/** 1 MiB: the smallest volume `add` and `resize` take; a smaller one is a unit mistake (bytes for MiB). */
export const VOLUME_MIN_SIZE_BYTES = 1024 * 1024;
/** 1 PiB: far past any volume this cluster is built for, and well inside exact doubles. */
export const VOLUME_MAX_SIZE_BYTES = 1024 ** 5;
/** The default share of a pool that a write may fill it to (PVC refuses writes past this). */
export const DEFAULT_MAX_FULLNESS_PERCENT = 80;
