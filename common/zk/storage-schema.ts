// The codecs of the storage znodes (Ceph pools, RBD volumes and snapshots, OSDs). Part of the
// schema module: schema.ts builds the paths and re-exports these. Kept apart only for size.
//
// Spec documents say what pvc created (written by clients right after Ceph did it); status
// documents say what Ceph reports (written only by the primary's storage-status runnable).
import { z } from 'zod';
import { POOL_PG_NUM_MAX, POOL_SIZE_MAX, STORAGE_NAME_PATTERN, STORAGE_NAME_RULE, VOLUME_MAX_SIZE_BYTES, type StorageNameKind } from '../storage/names.ts';

export {
  DEFAULT_MAX_FULLNESS_PERCENT,
  POOL_PG_NUM_MAX,
  POOL_SIZE_MAX,
  STORAGE_NAME_PATTERN,
  STORAGE_NAME_RULE,
  VOLUME_MAX_SIZE_BYTES,
  VOLUME_MIN_SIZE_BYTES,
  assertStorageName,
  isValidStorageName,
  type StorageNameKind,
} from '../storage/names.ts';

/** How many unmanaged images and pools the status names; more are only counted. */
export const UNMANAGED_LIST_MAX = 100;
/** Ceph health check summaries are kept to this length each. */
export const HEALTH_CHECK_MAX_CHARS = 1_000;
export const REFRESH_ERROR_MAX_CHARS = 2_000;

const storageName = (kind: StorageNameKind) => z.string().regex(STORAGE_NAME_PATTERN, `not a valid ${kind} name: ${STORAGE_NAME_RULE}`);
const bytes = z.number().int().nonnegative();
const count = z.number().int().nonnegative();
/** Any size an image can have: an uploaded image may be smaller than VOLUME_MIN_SIZE_BYTES. */
const volumeSize = z.number().int().min(1).max(VOLUME_MAX_SIZE_BYTES);

/** Storage-wide settings an administrator changes. */
export const StorageSettingsDoc = z.strictObject({
  /** A write (add, resize, clone, upload) that would fill a pool past this share is refused. */
  maxFullnessPercent: z.number().int().min(1).max(100),
});
export type StorageSettings = z.infer<typeof StorageSettingsDoc>;

/** A pool pvc created, with what it was asked for. */
export const PoolSpecDoc = z
  .strictObject({
    name: storageName('pool'),
    pgNum: z.number().int().min(1).max(POOL_PG_NUM_MAX),
    size: z.number().int().min(1).max(POOL_SIZE_MAX),
    minSize: z.number().int().min(1).max(POOL_SIZE_MAX),
  })
  .refine((pool) => pool.minSize <= pool.size, { message: 'minSize must not be larger than size', path: ['minSize'] });
export type PoolSpec = z.infer<typeof PoolSpecDoc>;

/** What Ceph reports for a pool (ceph osd pool ls detail, ceph df). */
export const PoolStatusDoc = z.strictObject({
  /** False: pvc has a spec but Ceph has no such pool. The other fields are then zero. */
  inCeph: z.boolean(),
  id: z.number().int().nonnegative(),
  pgNum: count,
  size: count,
  minSize: count,
  storedBytes: bytes,
  usedBytes: bytes,
  maxAvailableBytes: bytes,
  objects: count,
  /** RBD images Ceph lists in the pool (managed or not). */
  images: count,
});
export type PoolStatus = z.infer<typeof PoolStatusDoc>;

/** The snapshot a volume is a copy-on-write clone of. */
export const VolumeParentDoc = z.strictObject({ pool: storageName('pool'), volume: storageName('volume'), snapshot: storageName('snapshot') });
export type VolumeParent = z.infer<typeof VolumeParentDoc>;

/** The operations that take a volume away under its name; see VolumeSpecDoc.leaving. */
export const VOLUME_LEAVING = ['remove', 'rename'] as const;
export type VolumeLeaving = (typeof VOLUME_LEAVING)[number];

/** A volume (RBD image) pvc created: by add, clone or upload. */
export const VolumeSpecDoc = z.strictObject({
  name: storageName('volume'),
  pool: storageName('pool'),
  /** The size pvc last gave it (add, resize, or the imported image's size). */
  sizeBytes: volumeSize,
  parent: VolumeParentDoc.nullable(),
  /**
   * Set by `volume remove` or `rename` once its refusal checks passed, before it changes Ceph:
   * from then on no VM spec may take the volume (common/client/vm-volumes.ts has the protocol).
   * Stays set when the operation stopped after Ceph may have changed; running it again finishes
   * it. Absent otherwise (and in specs written before it existed).
   */
  leaving: z.enum(VOLUME_LEAVING).optional(),
});
export type VolumeSpec = z.infer<typeof VolumeSpecDoc>;

/** What RBD reports for a volume (rbd ls -l). */
export const VolumeStatusDoc = z.strictObject({
  /** False: pvc has a spec but the pool holds no such image. */
  inCeph: z.boolean(),
  sizeBytes: bytes,
  parent: VolumeParentDoc.nullable(),
  format: count,
});
export type VolumeStatus = z.infer<typeof VolumeStatusDoc>;

/** A snapshot pvc created, and whether pvc protected it (clones need a protected snapshot). */
export const SnapshotSpecDoc = z.strictObject({
  name: storageName('snapshot'),
  protected: z.boolean(),
});
export type SnapshotSpec = z.infer<typeof SnapshotSpecDoc>;

/** What RBD reports for a snapshot (rbd ls -l, which lists each image's snapshots after it). */
export const SnapshotStatusDoc = z.strictObject({
  /** False: pvc has a spec but Ceph has no such snapshot (or no such image). The other fields are then zero and false. */
  inCeph: z.boolean(),
  /** The image's size when the snapshot was taken. */
  sizeBytes: bytes,
  /** Protected in Ceph, whatever the spec says. */
  protected: z.boolean(),
});
export type SnapshotStatus = z.infer<typeof SnapshotStatusDoc>;

/** One OSD as Ceph reports it (ceph osd df); OSDs are only observed, never specified. */
export const OsdStatusDoc = z.strictObject({
  id: z.number().int().nonnegative(),
  up: z.boolean(),
  in: z.boolean(),
  weight: z.number().nonnegative(),
  totalBytes: bytes,
  usedBytes: bytes,
  placementGroups: count,
});
export type OsdStatus = z.infer<typeof OsdStatusDoc>;

export const CEPH_HEALTH_STATES = ['HEALTH_OK', 'HEALTH_WARN', 'HEALTH_ERR'] as const;

/** The Ceph cluster as a whole, and what the last refresh found that pvc does not manage. */
export const StorageStatusDoc = z.strictObject({
  /** The last refresh's Ceph facts; null when no refresh has reached Ceph yet. */
  ceph: z
    .strictObject({
      fsid: z.string().min(1).max(64),
      health: z.enum(CEPH_HEALTH_STATES),
      /** Failing health checks: code -> summary. */
      checks: z.record(z.string().min(1).max(128), z.string().max(HEALTH_CHECK_MAX_CHARS)),
      monitorsInQuorum: z.array(z.string().min(1).max(128)).max(64),
      osds: z.strictObject({ total: count, up: count, in: count }),
      placementGroups: z.strictObject({ total: count, activeClean: count }),
      bytes: z.strictObject({ total: bytes, used: bytes, available: bytes }),
    })
    .nullable(),
  /**
   * Pools and images Ceph has but pvc has no spec for: made outside pvc, or left by an operation
   * that stopped between Ceph and ZooKeeper. Named up to UNMANAGED_LIST_MAX, all counted.
   */
  unmanaged: z.strictObject({
    pools: z.array(storageName('pool')).max(UNMANAGED_LIST_MAX),
    /** `pool/volume` */
    volumes: z.array(z.string().min(3).max(512)).max(UNMANAGED_LIST_MAX),
    poolCount: count,
    volumeCount: count,
  }),
  /** Wall clock of the primary when it last completed a refresh; shown to people only. */
  refreshedAtMs: z.number().int().nonnegative().nullable(),
  /** Why the last refresh failed; null when it succeeded. */
  lastError: z.string().max(REFRESH_ERROR_MAX_CHARS).nullable(),
  /** The primary that wrote this. */
  node: z.string().min(1).max(63),
});
export type StorageStatus = z.infer<typeof StorageStatusDoc>;

/**
 * A write in flight (add, resize, clone, upload): the bytes it may add to a pool, held by the
 * writer's session until it is done. Every writer counts all reservations of the pool, its own
 * included, so two writes racing cannot both pass a fullness check that only one would.
 */
export const StorageReservationDoc = z.strictObject({
  pool: storageName('pool'),
  volume: storageName('volume'),
  bytes: z.number().int().nonnegative().max(VOLUME_MAX_SIZE_BYTES),
  operation: z.enum(['add', 'resize', 'clone', 'upload']),
});
export type StorageReservation = z.infer<typeof StorageReservationDoc>;
