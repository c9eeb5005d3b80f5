// The simulated Ceph cluster: an in-memory CephDriver for tests that cannot, or need not, run a
// real cluster (many pvcd processes, fault injection). It follows what the contract suite
// (test/contract/ceph.contract.ts) checks against real Ceph: the same error kinds for the same
// mistakes, pvc's clone rules (protected snapshots only; no unprotect or removal while clones
// exist), locks and watchers that block removal, fullness accounting from the bytes written.
// Deterministic: ids, client numbers and keys come from counters; faults are consumed in order.
//
// Tests reach past the port with the sim-only methods at the end (holdLock, openWatcher, write,
// setOsdUp): what a QEMU or a crashed client would do to the cluster.
import { checkAddress, checkClientId, checkName, checkOsdId, checkPoolSettings, checkSizeBytes, checkSnapshot, checkVolume } from './names.ts';
import {
  CephError,
  type BlocklistEntry,
  type CephClusterStatus,
  type CephDriver,
  type CephOperation,
  type ImageFormat,
  type ListedVolume,
  type OsdBacking,
  type OsdInfo,
  type PoolInfo,
  type PoolSettings,
  type PoolUsage,
  type RbdLock,
  type RbdWatcher,
  type SnapshotInfo,
  type CephErrorKind,
  type SnapshotRef,
  type TransferOptions,
  type VolumeInfo,
} from './port.ts';
import { SimFaults } from '../sim-faults.ts';
import { closeWatcher, holdLock, openWatcher, writeImage } from './sim-clients.ts';
import { cloneSnapshot, createSnapshot, removeSnapshot, rollbackSnapshot, setProtected } from './sim-snapshots.ts';
import { SIM_IMAGE_FEATURES, SimCephState, poolStoredBytes, type SimImage } from './sim-model.ts';
import { simExport, simImport } from './sim-transfer.ts';
import { simOsdAdd, simOsdList, simOsdMark, simOsdRemove } from './sim-osds.ts';
import { DEFAULT_CEPH_TIMEOUTS, type CephTimeouts } from './timeouts.ts';

export interface SimCephOptions {
  /** OSDs at start (ids from 0); default 1. */
  osds?: number;
  /** Capacity of each OSD at start; default 100 GiB. */
  osdSizeBytes?: number;
  /** How long a hung call waits before failing with 'timeout' (same kinds as the real adapter). */
  timeouts?: Partial<CephTimeouts>;
}

const DEFAULT_OSD_BYTES = 100 * 1024 ** 3;
const SIM_FSID = '5137ce9f-0000-4000-8000-000000000001';

export class SimCeph implements CephDriver {
  readonly faults = new SimFaults<CephErrorKind>('failed');
  readonly state = new SimCephState();
  readonly timeouts: CephTimeouts;
  /** Calls made, in order: for tests that assert what pvc asked. */
  readonly calls: Array<{ operation: CephOperation; subject: string | null }> = [];

  constructor(options: SimCephOptions = {}) {
    this.timeouts = { ...DEFAULT_CEPH_TIMEOUTS, ...options.timeouts };
    for (let id = 0; id < (options.osds ?? 1); id += 1) this.state.osds.set(id, { id, up: true, in: true, totalBytes: options.osdSizeBytes ?? DEFAULT_OSD_BYTES });
    this.state.keys.set('admin', Buffer.from('pvc-sim-client.admin-key').toString('base64'));
  }

  async status(): Promise<CephClusterStatus> {
    await this.enter('status', null);
    const osds = [...this.state.osds.values()];
    const down = osds.filter((o) => !o.up).length;
    const pgs = [...this.state.pools.values()].reduce((sum, p) => sum + p.pgNum, 0);
    const serving = osds.some((o) => o.up && o.in);
    const checks: Record<string, string> = down > 0 ? { OSD_DOWN: `${down} osds down` } : {};
    const total = osds.filter((o) => o.up).reduce((sum, o) => sum + o.totalBytes, 0);
    const used = Math.min(total, this.state.rawUsedBytes());
    return {
      fsid: SIM_FSID,
      health: down > 0 ? 'HEALTH_WARN' : 'HEALTH_OK',
      checks,
      monitorsInQuorum: ['a'],
      osds: { total: osds.length, up: osds.filter((o) => o.up).length, in: osds.filter((o) => o.in).length },
      placementGroups: { total: pgs, activeClean: serving ? pgs : 0 },
      bytes: { total, used, available: total - used },
    };
  }

  async poolUsage(): Promise<PoolUsage[]> {
    await this.enter('status', null);
    const free = Math.max(0, this.state.capacityBytes() - this.state.rawUsedBytes());
    return [...this.state.pools.values()].map((p) => {
      const stored = poolStoredBytes(p);
      return { pool: p.name, storedBytes: stored, usedBytes: stored * p.size, maxAvailableBytes: Math.floor(free / p.size), objects: [...p.images.values()].reduce((n, i) => n + Math.ceil(i.ownBytes / 4_194_304) + 1, 0) };
    });
  }

  async listPools(): Promise<PoolInfo[]> {
    await this.enter('pool', null);
    return [...this.state.pools.values()].map((p) => ({ name: p.name, id: p.id, size: p.size, minSize: p.minSize, pgNum: p.pgNum, applications: [...p.applications] }));
  }

  async createPool(name: string, settings: PoolSettings): Promise<void> {
    checkName('pool', 'pool', name);
    checkPoolSettings(name, settings);
    await this.enter('pool', name, this.timeouts.poolMs);
    if (this.state.pools.has(name)) throw new CephError('exists', 'pool', name, `pool '${name}' already exists`);
    this.state.pools.set(name, { name, id: this.state.next(), ...settings, applications: ['rbd'], images: new Map() });
  }

  async setPool(name: string, settings: Partial<PoolSettings>): Promise<void> {
    checkName('pool', 'pool', name);
    await this.enter('pool', name);
    const pool = this.state.pools.get(name);
    if (!pool) throw new CephError('not-found', 'pool', name, `unrecognized pool '${name}'`);
    const next = { pgNum: pool.pgNum, size: pool.size, minSize: pool.minSize, ...settings };
    checkPoolSettings(name, next);
    Object.assign(pool, next);
  }

  async removePool(name: string): Promise<void> {
    checkName('pool', 'pool', name);
    await this.enter('pool', name, this.timeouts.poolMs);
    if (!this.state.pools.delete(name)) throw new CephError('not-found', 'pool', name, `pool '${name}' does not exist`);
  }

  async listOsds(): Promise<OsdInfo[]> {
    await this.enter('osd', null);
    return simOsdList(this.state);
  }

  async addOsd(backing: OsdBacking): Promise<number> {
    await this.enter('osd', backing.path, this.timeouts.osdMs);
    return simOsdAdd(this.state, backing);
  }

  async removeOsd(id: number, options: { force?: boolean } = {}): Promise<void> {
    await this.enter('osd', checkOsdId('osd', id), this.timeouts.osdMs);
    simOsdRemove(this.state, id, options.force === true);
  }

  async markOsdOut(id: number): Promise<void> {
    await this.enter('osd', checkOsdId('osd', id));
    simOsdMark(this.state, id, false);
  }

  async markOsdIn(id: number): Promise<void> {
    await this.enter('osd', checkOsdId('osd', id));
    simOsdMark(this.state, id, true);
  }

  async listVolumes(pool: string): Promise<ListedVolume[]> {
    checkName('volume', 'pool', pool);
    await this.enter('volume', pool);
    // As `rbd ls -l`: sorted by name, no features in the listing, snapshots in creation order.
    const images = [...this.state.pool('volume', pool).images.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return images.map((i) => ({ ...volumeOf(pool, i), features: [], snapshots: snapshotsOf(i) }));
  }

  async volumeInfo(pool: string, name: string): Promise<VolumeInfo> {
    await this.enter('volume', checkVolume('volume', pool, name));
    return volumeOf(pool, this.state.image('volume', pool, name));
  }

  async createVolume(pool: string, name: string, sizeBytes: number): Promise<void> {
    const spec = checkVolume('volume', pool, name);
    checkSizeBytes('volume', spec, sizeBytes);
    await this.enter('volume', spec);
    this.state.addImage('volume', pool, name, sizeBytes, Buffer.alloc(0), null);
  }

  async removeVolume(pool: string, name: string): Promise<void> {
    const spec = checkVolume('volume', pool, name);
    await this.enter('volume', spec);
    const image = this.state.image('volume', pool, name);
    if (image.locks.length > 0) throw new CephError('busy', 'volume', spec, `image is locked by ${image.locks.map((l) => `${l.locker} (${l.address})`).join(', ')}`);
    if (image.watchers.length > 0) throw new CephError('busy', 'volume', spec, 'image still has watchers');
    if (image.snapshots.size > 0) throw new CephError('busy', 'volume', spec, "image has snapshots - these must be deleted with 'rbd snap purge' before the image can be removed.");
    this.state.pool('volume', pool).images.delete(name);
  }

  async resizeVolume(pool: string, name: string, sizeBytes: number, allowShrink: boolean): Promise<void> {
    const spec = checkVolume('volume', pool, name);
    checkSizeBytes('volume', spec, sizeBytes);
    await this.enter('volume', spec);
    const image = this.state.writable('volume', pool, name);
    if (sizeBytes < image.sizeBytes && !allowShrink) throw new CephError('invalid', 'volume', spec, 'shrinking an image is only allowed with the --allow-shrink flag');
    if (image.data.length > sizeBytes) image.data = image.data.subarray(0, sizeBytes);
    image.ownBytes = Math.min(image.ownBytes, sizeBytes);
    image.sizeBytes = sizeBytes;
  }

  async renameVolume(pool: string, from: string, to: string): Promise<void> {
    const spec = checkVolume('volume', pool, from);
    checkVolume('volume', pool, to);
    await this.enter('volume', spec);
    const image = this.state.image('volume', pool, from);
    const images = this.state.pool('volume', pool).images;
    if (images.has(to)) throw new CephError('exists', 'volume', spec, `rbd image ${to} already exists`);
    images.delete(from);
    image.name = to;
    images.set(to, image);
  }

  async cloneVolume(source: SnapshotRef, pool: string, name: string): Promise<void> {
    const sourceSpec = checkSnapshot('volume', source);
    const target = checkVolume('volume', pool, name);
    await this.enter('volume', target);
    cloneSnapshot(this.state, source, sourceSpec, pool, name);
  }

  async listClones(source: SnapshotRef): Promise<Array<{ pool: string; image: string }>> {
    await this.enter('snapshot', checkSnapshot('snapshot', source));
    this.state.snapshot('snapshot', source);
    return this.state.clonesOf(source);
  }

  async listSnapshots(pool: string, image: string): Promise<SnapshotInfo[]> {
    await this.enter('snapshot', checkVolume('snapshot', pool, image));
    return snapshotsOf(this.state.image('snapshot', pool, image));
  }

  async createSnapshot(ref: SnapshotRef): Promise<void> {
    const spec = checkSnapshot('snapshot', ref);
    await this.enter('snapshot', spec);
    createSnapshot(this.state, ref, spec);
  }

  async removeSnapshot(ref: SnapshotRef): Promise<void> {
    const spec = checkSnapshot('snapshot', ref);
    await this.enter('snapshot', spec);
    removeSnapshot(this.state, ref, spec);
  }

  async rollbackSnapshot(ref: SnapshotRef): Promise<void> {
    const spec = checkSnapshot('snapshot', ref);
    await this.enter('snapshot', spec);
    rollbackSnapshot(this.state, ref);
  }

  async protectSnapshot(ref: SnapshotRef): Promise<void> {
    const spec = checkSnapshot('snapshot', ref);
    await this.enter('snapshot', spec);
    setProtected(this.state, ref, spec, true);
  }

  async unprotectSnapshot(ref: SnapshotRef): Promise<void> {
    const spec = checkSnapshot('snapshot', ref);
    await this.enter('snapshot', spec);
    setProtected(this.state, ref, spec, false);
  }

  async importVolume(pool: string, name: string, sourcePath: string, format: ImageFormat, options: TransferOptions): Promise<void> {
    const spec = checkVolume('import', pool, name);
    await this.enter('import', spec, options.timeoutMs);
    const imported = await simImport(this.state, pool, name, sourcePath, format, options);
    this.state.addImage('import', pool, name, imported.sizeBytes, imported.data, null);
  }

  async exportVolume(pool: string, name: string, destinationPath: string, options: TransferOptions): Promise<void> {
    const spec = checkVolume('export', pool, name);
    await this.enter('export', spec, options.timeoutMs);
    await simExport(this.state.image('export', pool, name), spec, destinationPath, options);
  }

  async listLocks(pool: string, image: string): Promise<RbdLock[]> {
    await this.enter('lock', checkVolume('lock', pool, image));
    return this.state.image('lock', pool, image).locks.map((l) => ({ ...l }));
  }

  async removeLock(pool: string, image: string, lock: Pick<RbdLock, 'id' | 'locker'>): Promise<void> {
    const spec = checkVolume('lock', pool, image);
    await this.enter('lock', spec);
    const found = this.state.image('lock', pool, image);
    const index = found.locks.findIndex((l) => l.id === lock.id && l.locker === lock.locker);
    if (index < 0) throw new CephError('not-found', 'lock', spec, 'releasing lock failed: (2) No such file or directory');
    found.locks.splice(index, 1);
  }

  async listWatchers(pool: string, image: string): Promise<RbdWatcher[]> {
    await this.enter('watchers', checkVolume('watchers', pool, image));
    return this.state.image('watchers', pool, image).watchers.map((w) => ({ ...w }));
  }

  async blocklistAdd(address: string, expireS: number): Promise<void> {
    checkAddress(address);
    if (!Number.isFinite(expireS) || expireS <= 0) throw new CephError('invalid', 'blocklist', address, `expiry must be a positive number of seconds, got ${expireS}`);
    await this.enter('blocklist', address);
    this.state.blocklist.set(address, new Date(Date.now() + expireS * 1000).toISOString());
    // As the OSDs do: a fenced client's watches are dropped; its locks stay until removed.
    for (const pool of this.state.pools.values()) for (const image of pool.images.values()) image.watchers = image.watchers.filter((w) => w.address !== address);
  }

  async blocklistList(): Promise<BlocklistEntry[]> {
    await this.enter('blocklist', null);
    return [...this.state.blocklist].map(([address, until]) => ({ address, until }));
  }

  async blocklistRemove(address: string): Promise<void> {
    checkAddress(address);
    await this.enter('blocklist', address);
    if (!this.state.blocklist.delete(address)) throw new CephError('not-found', 'blocklist', address, `${address} isn't blocklisted`);
  }

  async clientKey(client: string): Promise<string> {
    checkClientId(client);
    await this.enter('auth', `client.${client}`);
    const key = this.state.keys.get(client);
    if (key === undefined) throw new CephError('not-found', 'auth', `client.${client}`, `don't have client.${client}`);
    return key;
  }

  // --- Sim-only: what clients outside pvc do to the cluster (sim-clients.ts). ---

  /** Another client takes an advisory lock (as `rbd lock add`); returns it as listLocks shows it. */
  holdLock(pool: string, image: string, id: string): RbdLock {
    return holdLock(this.state, pool, image, id);
  }

  /** Another client opens the image (a running QEMU); returns its watch. */
  openWatcher(pool: string, image: string): RbdWatcher {
    return openWatcher(this.state, pool, image);
  }

  closeWatcher(pool: string, image: string, address: string): void {
    closeWatcher(this.state, pool, image, address);
  }

  /** A guest writes `data` at `offset` (pool usage grows by the bytes written that are not zero). */
  write(pool: string, image: string, offset: number, data: Buffer): void {
    writeImage(this.state, pool, image, offset, data);
  }

  /** An OSD's daemon dies or comes back (up/down, as the monitor would mark it). */
  setOsdUp(id: number, up: boolean): void {
    const osd = this.state.osds.get(id);
    if (!osd) throw new Error(`sim ceph: no osd.${id}`);
    osd.up = up;
  }

  /** Every call starts here: it is logged, then suffers the faults. */
  private async enter(operation: CephOperation, subject: string | null, timeoutMs = this.timeouts.queryMs): Promise<void> {
    this.calls.push({ operation, subject });
    const { hang, failure } = this.faults.take();
    if (this.faults.slowMs > 0) await delay(this.faults.slowMs);
    if (hang) {
      await delay(timeoutMs);
      throw new CephError('timeout', operation, subject, `${operation} did not finish within ${timeoutMs} ms (injected hang)`);
    }
    if (failure) throw new CephError(failure.kind, operation, subject, failure.detail);
  }
}

function volumeOf(pool: string, image: SimImage): VolumeInfo {
  return { pool, name: image.name, sizeBytes: image.sizeBytes, parent: image.parent ? { ...image.parent } : null, format: 2, features: [...SIM_IMAGE_FEATURES] };
}

function snapshotsOf(image: SimImage): SnapshotInfo[] {
  return [...image.snapshots.values()].map((s) => ({ name: s.name, sizeBytes: s.sizeBytes, protected: s.protected }));
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
