// The state of the simulated Ceph cluster (sim.ts): pools of images with their snapshots, locks
// and watchers, OSDs, the blocklist, cephx keys. Lookups fail with the same error kinds as the
// real CLIs (rbd: "error opening image x: (2) No such file or directory").
//
// Image contents are kept in memory as the bytes written so far (reads past them are zeros), so
// that an import/export round trip and a snapshot rollback can be checked byte for byte. A clone
// starts with its parent snapshot's bytes (copy-on-write: the bytes are shared, never mutated).
import { snapshotSpec } from './names.ts';
import { CephError, type CephOperation, type RbdLock, type RbdWatcher, type SnapshotRef } from './port.ts';

export interface SimSnapshot {
  name: string;
  sizeBytes: number;
  protected: boolean;
  data: Buffer;
}

export interface SimImage {
  name: string;
  sizeBytes: number;
  /** Contents from offset 0; shorter than sizeBytes when the rest was never written. */
  data: Buffer;
  /** Bytes this image wrote itself (a clone's shared parent bytes do not count): pool usage. */
  ownBytes: number;
  parent: SnapshotRef | null;
  snapshots: Map<string, SimSnapshot>;
  locks: RbdLock[];
  watchers: RbdWatcher[];
}

export interface SimPool {
  name: string;
  id: number;
  pgNum: number;
  size: number;
  minSize: number;
  applications: string[];
  images: Map<string, SimImage>;
}

export interface SimOsd {
  id: number;
  up: boolean;
  in: boolean;
  totalBytes: number;
}

/** The features `rbd create` gives an image with Pacific's defaults. */
export const SIM_IMAGE_FEATURES: readonly string[] = ['layering', 'exclusive-lock', 'object-map', 'fast-diff', 'deep-flatten'];

export class SimCephState {
  readonly pools = new Map<string, SimPool>();
  readonly osds = new Map<number, SimOsd>();
  readonly blocklist = new Map<string, string>();
  readonly keys = new Map<string, string>();
  private counter = 0;

  /** Deterministic ids: pools, OSD ids elsewhere, client numbers and nonces all come from one counter. */
  next(): number {
    this.counter += 1;
    return this.counter;
  }

  pool(operation: CephOperation, name: string, subject: string = name): SimPool {
    const pool = this.pools.get(name);
    if (!pool) throw new CephError('not-found', operation, subject, `error opening pool '${name}': (2) No such file or directory`);
    return pool;
  }

  image(operation: CephOperation, pool: string, name: string): SimImage {
    const subject = `${pool}/${name}`;
    const image = this.pool(operation, pool, subject).images.get(name);
    if (!image) throw new CephError('not-found', operation, subject, `error opening image ${name}: (2) No such file or directory`);
    return image;
  }

  snapshot(operation: CephOperation, ref: SnapshotRef): { image: SimImage; snapshot: SimSnapshot } {
    const image = this.image(operation, ref.pool, ref.image);
    const snapshot = image.snapshots.get(ref.snapshot);
    if (!snapshot) throw new CephError('not-found', operation, `${ref.pool}/${ref.image}@${ref.snapshot}`, 'snapshot does not exist');
    return { image, snapshot };
  }

  /** Images whose parent is this snapshot, in any pool. */
  clonesOf(ref: SnapshotRef): Array<{ pool: string; image: string }> {
    const clones: Array<{ pool: string; image: string }> = [];
    for (const pool of this.pools.values()) {
      for (const image of pool.images.values()) {
        const p = image.parent;
        if (p && p.pool === ref.pool && p.image === ref.image && p.snapshot === ref.snapshot) clones.push({ pool: pool.name, image: image.name });
      }
    }
    return clones.sort((a, b) => `${a.pool}/${a.image}`.localeCompare(`${b.pool}/${b.image}`));
  }

  /** A new client of the cluster, as rbd lock ls and rbd status name it. */
  newClient(): { locker: string; address: string } {
    const n = this.next();
    return { locker: `client.${4100 + n}`, address: `127.0.0.1:0/${1_000_000 + n}` };
  }

  addImage(operation: CephOperation, pool: string, name: string, sizeBytes: number, data: Buffer, parent: SnapshotRef | null, ownBytes = nonZeroBytes(data)): void {
    const images = this.pool(operation, pool, `${pool}/${name}`).images;
    if (images.has(name)) throw new CephError('exists', operation, `${pool}/${name}`, `rbd image ${name} already exists`);
    images.set(name, { name, sizeBytes, data, ownBytes, parent, snapshots: new Map(), locks: [], watchers: [] });
  }

  /** The image, unless another client's lock makes writes fail (EROFS, as real rbd). */
  writable(operation: CephOperation, pool: string, name: string): SimImage {
    const image = this.image(operation, pool, name);
    if (image.locks.length > 0) throw new CephError('busy', operation, `${pool}/${name}`, 'Read-only file system (the image is locked by another client)');
    return image;
  }

  /** pvc's rule: a snapshot with clones is neither unprotected nor removed. */
  refuseWithClones(ref: SnapshotRef, spec: string): void {
    const clones = this.clonesOf(ref);
    if (clones.length > 0) throw new CephError('busy', 'snapshot', spec, `snapshot ${snapshotSpec(ref)} has ${clones.length} clone(s): ${clones.map((c) => `${c.pool}/${c.image}`).join(', ')}`);
  }

  /** Raw bytes used: every image's own bytes, once per replica. */
  rawUsedBytes(): number {
    let used = 0;
    for (const pool of this.pools.values()) used += poolStoredBytes(pool) * pool.size;
    return used;
  }

  /** Capacity of the OSDs that are up and in. */
  capacityBytes(): number {
    return [...this.osds.values()].filter((o) => o.up && o.in).reduce((sum, o) => sum + o.totalBytes, 0);
  }

  /** PGs (with replicas) spread evenly over the OSDs that are up and in; none on the others. */
  placementGroupsOn(osd: SimOsd): number {
    const serving = [...this.osds.values()].filter((o) => o.up && o.in).sort((a, b) => a.id - b.id);
    const index = serving.findIndex((o) => o.id === osd.id);
    if (index < 0) return 0;
    const total = [...this.pools.values()].reduce((sum, p) => sum + p.pgNum * Math.min(p.size, serving.length), 0);
    return Math.floor(total / serving.length) + (index < total % serving.length ? 1 : 0);
  }
}

export function poolStoredBytes(pool: SimPool): number {
  let stored = 0;
  for (const image of pool.images.values()) stored += image.ownBytes;
  return stored;
}

/** Bytes that are not zero, as a sparse store would keep them (rbd import skips zeros as well). */
export function nonZeroBytes(data: Buffer): number {
  const block = 4096;
  let count = 0;
  for (let offset = 0; offset < data.length; offset += block) {
    const chunk = data.subarray(offset, Math.min(offset + block, data.length));
    if (chunk.some((b) => b !== 0)) count += chunk.length;
  }
  return count;
}
