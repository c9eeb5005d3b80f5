// The Ceph port: everything pvc asks of the storage cluster. Two adapters implement it: the real
// one (the ceph and rbd CLIs with --format json, through common/exec.ts) and a simulation (an
// in-memory cluster with faults). The contract suite (test/contract/ceph.contract.ts) holds both
// to the same behaviour.
//
// Like the hypervisor port, calls report what Ceph said and are not made idempotent here:
// creating a volume that exists is an 'exists' error, and callers decide what "already done" means.
import { PvcError, type PvcErrorCode } from '../../../common/errors.ts';

/** Ceph's overall health, as `ceph status` reports it. */
export type CephHealth = 'HEALTH_OK' | 'HEALTH_WARN' | 'HEALTH_ERR';

export interface CephClusterStatus {
  fsid: string;
  health: CephHealth;
  /** The health checks that are not OK: code -> one-line summary. */
  checks: Record<string, string>;
  monitorsInQuorum: string[];
  osds: { total: number; up: number; in: number };
  placementGroups: { total: number; activeClean: number };
  bytes: { total: number; used: number; available: number };
}

export interface PoolUsage {
  pool: string;
  /** Bytes the pool's objects hold, before replication. */
  storedBytes: number;
  /** Raw bytes used, replicas included. */
  usedBytes: number;
  /** What can still be written to the pool, before replication (Ceph's max_avail). */
  maxAvailableBytes: number;
  objects: number;
}

export interface PoolInfo {
  name: string;
  id: number;
  size: number;
  minSize: number;
  pgNum: number;
  /** Applications enabled on the pool ('rbd' for pvc's pools). */
  applications: string[];
}

export interface PoolSettings {
  pgNum: number;
  size: number;
  minSize: number;
}

export interface OsdInfo {
  id: number;
  up: boolean;
  in: boolean;
  /** CRUSH weight (TiB by Ceph's convention). */
  weight: number;
  totalBytes: number;
  usedBytes: number;
  placementGroups: number;
}

/** Where a new OSD keeps its data: a block device (production) or a file (tests, the local cluster). */
export type OsdBacking = { type: 'device'; path: string } | { type: 'file'; path: string; sizeBytes: number };

export interface SnapshotRef {
  pool: string;
  image: string;
  snapshot: string;
}

export interface VolumeInfo {
  pool: string;
  name: string;
  sizeBytes: number;
  /** The snapshot this volume is a copy-on-write clone of; null when it stands alone. */
  parent: SnapshotRef | null;
  /** RBD image format (2 for every image pvc creates: layering needs it). */
  format: number;
  /** e.g. layering, exclusive-lock. Empty in listVolumes: `rbd ls -l` does not show them (volumeInfo does). */
  features: string[];
}

export interface SnapshotInfo {
  name: string;
  sizeBytes: number;
  protected: boolean;
}

/** An image as listVolumes gives it: with its snapshots, which `rbd ls -l` lists in the same call. */
export interface ListedVolume extends VolumeInfo {
  /** In creation order (as rbd lists them). */
  snapshots: SnapshotInfo[];
}

/** An advisory or exclusive lock on an image, as `rbd lock ls` lists it. */
export interface RbdLock {
  id: string;
  /** The client holding it, e.g. client.4155. */
  locker: string;
  /** The holder's client address, which `ceph osd blocklist add` takes. */
  address: string;
}

/** A client with the image open, as `rbd status` lists it. */
export interface RbdWatcher {
  address: string;
  client: string;
}

export interface BlocklistEntry {
  address: string;
  /** When the entry runs out, as Ceph prints it; null when Ceph gave no time. */
  until: string | null;
}

export type ImageFormat = 'raw' | 'qcow2' | 'vmdk' | 'vdi';

export interface TransferProgress {
  doneBytes: number;
  /** Null when the total is not known in advance. */
  totalBytes: number | null;
}

export interface TransferOptions {
  /** Called as bytes move; never more than about ten times a second. */
  onProgress?: (progress: TransferProgress) => void;
  /** The whole transfer must finish within this; it is aborted (and the partial volume removed) after. */
  timeoutMs: number;
}

export interface CephDriver {
  status(): Promise<CephClusterStatus>;
  poolUsage(): Promise<PoolUsage[]>;

  listPools(): Promise<PoolInfo[]>;
  /** Creates a replicated pool with the rbd application enabled and initialised (PG autoscaling off: pgNum stays). */
  createPool(name: string, settings: PoolSettings): Promise<void>;
  setPool(name: string, settings: Partial<PoolSettings>): Promise<void>;
  removePool(name: string): Promise<void>;

  listOsds(): Promise<OsdInfo[]>;
  /** Creates, registers and starts an OSD on the backing; returns its id. */
  addOsd(backing: OsdBacking): Promise<number>;
  /**
   * Stops the OSD and removes it from the cluster map (purge). Refused (busy) while it still holds
   * data (ceph osd safe-to-destroy): mark it out and wait until its placement groups have moved.
   * `force` skips that check, for a dead disk whose data cannot move any more (its only copies are
   * lost with it). A file backing stays on disk.
   */
  removeOsd(id: number, options?: { force?: boolean }): Promise<void>;
  markOsdOut(id: number): Promise<void>;
  markOsdIn(id: number): Promise<void>;

  /** The pool's images with their snapshots, sorted by name (one `rbd ls -l` call). */
  listVolumes(pool: string): Promise<ListedVolume[]>;
  volumeInfo(pool: string, name: string): Promise<VolumeInfo>;
  /** A format-2 image with layering. */
  createVolume(pool: string, name: string, sizeBytes: number): Promise<void>;
  /** Refused (busy) while the image has snapshots, watchers (an open client) or an RBD lock. */
  removeVolume(pool: string, name: string): Promise<void>;
  /** Growing is always allowed; shrinking only with allowShrink (it destroys data at the end). */
  resizeVolume(pool: string, name: string, sizeBytes: number, allowShrink: boolean): Promise<void>;
  renameVolume(pool: string, from: string, to: string): Promise<void>;
  /**
   * A copy-on-write clone (RBD layering, clone format 2) of a protected snapshot; an unprotected one
   * is refused (invalid) although format 2 would allow it: pvc keeps snapshots with clones protected.
   */
  cloneVolume(source: SnapshotRef, pool: string, name: string): Promise<void>;
  /** Clones of a snapshot, as pool/image pairs. */
  listClones(source: SnapshotRef): Promise<Array<{ pool: string; image: string }>>;

  listSnapshots(pool: string, image: string): Promise<SnapshotInfo[]>;
  createSnapshot(ref: SnapshotRef): Promise<void>;
  /** Refused (busy) while protected or while it has clones. */
  removeSnapshot(ref: SnapshotRef): Promise<void>;
  rollbackSnapshot(ref: SnapshotRef): Promise<void>;
  protectSnapshot(ref: SnapshotRef): Promise<void>;
  /** Refused (busy) while the snapshot has clones (format 2 would allow it; pvc does not). */
  unprotectSnapshot(ref: SnapshotRef): Promise<void>;

  /**
   * Creates the volume from a local file (absolute path), converting qcow2/vmdk/vdi to raw on the
   * way. A failed or timed-out import removes the partial volume before it returns (after a
   * timeout that can take ~30 s: the killed client's watch must expire first).
   */
  importVolume(pool: string, name: string, sourcePath: string, format: ImageFormat, options: TransferOptions): Promise<void>;
  /** Writes the volume's raw bytes to a new local file (absolute path; an existing file is refused). */
  exportVolume(pool: string, name: string, destinationPath: string, options: TransferOptions): Promise<void>;

  listLocks(pool: string, image: string): Promise<RbdLock[]>;
  removeLock(pool: string, image: string, lock: Pick<RbdLock, 'id' | 'locker'>): Promise<void>;
  listWatchers(pool: string, image: string): Promise<RbdWatcher[]>;

  /** Fences a client address: the OSDs refuse its I/O from now on (for expireS seconds). */
  blocklistAdd(address: string, expireS: number): Promise<void>;
  blocklistList(): Promise<BlocklistEntry[]>;
  blocklistRemove(address: string): Promise<void>;

  /** The base64 cephx key of a client (e.g. 'admin'), for libvirt's ceph secret. */
  clientKey(client: string): Promise<string>;
}

export type CephOperation =
  | 'status'
  | 'pool'
  | 'osd'
  | 'volume'
  | 'snapshot'
  | 'import'
  | 'export'
  | 'lock'
  | 'watchers'
  | 'blocklist'
  | 'auth';

/**
 * What went wrong, as far as a caller can act on it:
 * not-found, exists, busy (in use: watchers, clones, a protected snapshot, a non-empty OSD),
 * invalid (Ceph refused the arguments), timeout, unreachable (no monitor answered), failed.
 */
export type CephErrorKind = 'not-found' | 'exists' | 'busy' | 'invalid' | 'timeout' | 'unreachable' | 'failed';

const ERROR_CODES: Record<CephErrorKind, PvcErrorCode> = {
  'not-found': 'not-found',
  exists: 'refused',
  busy: 'refused',
  invalid: 'bad-input',
  timeout: 'timeout',
  unreachable: 'unreachable',
  failed: 'refused',
};

export class CephError extends PvcError {
  constructor(
    readonly kind: CephErrorKind,
    readonly operation: CephOperation,
    /** What the call was about, e.g. "vms/disk0@gold" or "osd.2"; null for cluster-wide calls. */
    readonly subject: string | null,
    /** What Ceph said (the CLI's error lines). */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(ERROR_CODES[kind], `${operation}${subject === null ? '' : ` of ${subject}`} failed (${kind}): ${detail}`, options);
    this.name = 'CephError';
  }
}

export function isCephError(error: unknown, kind?: CephErrorKind): error is CephError {
  return error instanceof CephError && (kind === undefined || error.kind === kind);
}
