// The real Ceph adapter: the ceph and rbd CLIs with --format json (cli-runner.ts), outputs read
// by the pure parsers of parse.ts. OSD daemons (osd-local.ts) and image transfers (transfer.ts)
// live in their own files.
//
// Where Ceph's own rules are looser than pvc's, this adapter adds the check (and the simulation
// does the same):
// - Clones are RBD layering, clone format 2, and only of a *protected* snapshot. Format 2 would
//   clone an unprotected snapshot, and lets a snapshot with clones be unprotected and removed
//   (to the trash); pvc keeps the older, explicit rule: protect, clone, and unprotect or remove
//   only once no clone is left (busy otherwise).
// - A volume with an RBD lock is not removed (busy): `rbd rm` would wait for the lock forever.
import { CephCli, type CallSpec, type CephConnection } from './cli-runner.ts';
import { addOsd, removeOsd } from './osd-local.ts';
import {
  parseAuthKey,
  parseBlocklist,
  parseChildren,
  parseDf,
  parseImageInfo,
  parseLockLs,
  parseLsLong,
  parseOsds,
  parsePoolDetail,
  parseRbdStatus,
  parseSnapLs,
  parseStatus,
} from './parse.ts';
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
  type SnapshotRef,
  type TransferOptions,
  type VolumeInfo,
} from './port.ts';
import { DEFAULT_CEPH_TIMEOUTS, type CephTimeouts } from './timeouts.ts';
import { exportVolume, importVolume } from './transfer.ts';

export interface CephCliOptions {
  timeouts?: Partial<CephTimeouts>;
}

export class CephCliDriver implements CephDriver {
  readonly cli: CephCli;
  private readonly t: CephTimeouts;

  constructor(connection: CephConnection, options: CephCliOptions = {}) {
    this.t = { ...DEFAULT_CEPH_TIMEOUTS, ...options.timeouts };
    this.cli = new CephCli(connection, this.t);
  }

  async status(): Promise<CephClusterStatus> {
    return parseStatus(await this.cli.ceph(this.query('status', null), ['status']));
  }

  async poolUsage(): Promise<PoolUsage[]> {
    return parseDf(await this.cli.ceph(this.query('status', null), ['df', 'detail']));
  }

  async listPools(): Promise<PoolInfo[]> {
    return parsePoolDetail(await this.cli.ceph(this.query('pool', null), ['osd', 'pool', 'ls', 'detail']));
  }

  async createPool(name: string, settings: PoolSettings): Promise<void> {
    checkName('pool', 'pool', name);
    checkPoolSettings(name, settings);
    const spec = this.spec('pool', name, this.t.poolMs);
    // The autoscaler would change pg_num behind pvc's back: the count asked for is kept.
    const pg = String(settings.pgNum);
    await this.cli.ceph(spec, ['osd', 'pool', 'create', name, pg, pg, 'replicated', '--size', String(settings.size), '--autoscale-mode', 'off']);
    try {
      await this.cli.ceph(spec, ['osd', 'pool', 'set', name, 'min_size', String(settings.minSize)]);
      await this.cli.ceph(spec, ['osd', 'pool', 'application', 'enable', name, 'rbd']);
      // Writes the pool's RBD metadata: returns once the new placement groups serve I/O.
      await this.cli.rbd(spec, ['pool', 'init', name]);
    } catch (error) {
      await this.removePool(name).catch(() => undefined);
      throw error;
    }
  }

  async setPool(name: string, settings: Partial<PoolSettings>): Promise<void> {
    checkName('pool', 'pool', name);
    const current = (await this.listPools()).find((p) => p.name === name);
    if (!current) throw new CephError('not-found', 'pool', name, `pool '${name}' does not exist`);
    const next = { pgNum: current.pgNum, size: current.size, minSize: current.minSize, ...settings };
    checkPoolSettings(name, next);
    const spec = this.spec('pool', name, this.t.changeMs);
    const set = (key: string, value: number): Promise<string> =>
      // Ceph asks for confirmation before a pool of one replica (this driver's caller decided).
      this.cli.ceph(spec, ['osd', 'pool', 'set', name, key, String(value), ...(key === 'size' && value === 1 ? ['--yes-i-really-mean-it'] : [])]);
    if (settings.pgNum !== undefined && settings.pgNum !== current.pgNum) await set('pg_num', settings.pgNum);
    // min_size may never exceed size: lower min_size first when size shrinks below it.
    const minFirst = next.size < current.minSize;
    if (minFirst && next.minSize !== current.minSize) await set('min_size', next.minSize);
    if (next.size !== current.size) await set('size', next.size);
    if (!minFirst && next.minSize !== current.minSize) await set('min_size', next.minSize);
  }

  async removePool(name: string): Promise<void> {
    checkName('pool', 'pool', name);
    await this.cli.ceph(this.spec('pool', name, this.t.poolMs), ['osd', 'pool', 'rm', name, name, '--yes-i-really-really-mean-it']);
  }

  async listOsds(): Promise<OsdInfo[]> {
    const spec = this.query('osd', null);
    const [dump, df] = await Promise.all([this.cli.ceph(spec, ['osd', 'dump']), this.cli.ceph(spec, ['osd', 'df'])]);
    return parseOsds(dump, df);
  }

  async addOsd(backing: OsdBacking): Promise<number> {
    return addOsd(this.cli, backing);
  }

  async removeOsd(id: number, options: { force?: boolean } = {}): Promise<void> {
    await removeOsd(this.cli, id, options.force === true);
  }

  async markOsdOut(id: number): Promise<void> {
    await this.cli.ceph(this.spec('osd', checkOsdId('osd', id), this.t.changeMs), ['osd', 'out', String(id)]);
  }

  async markOsdIn(id: number): Promise<void> {
    await this.cli.ceph(this.spec('osd', checkOsdId('osd', id), this.t.changeMs), ['osd', 'in', String(id)]);
  }

  async listVolumes(pool: string): Promise<ListedVolume[]> {
    checkName('volume', 'pool', pool);
    return parseLsLong(await this.cli.rbd(this.query('volume', pool), ['ls', '-l', '--format', 'json', pool]), pool);
  }

  async volumeInfo(pool: string, name: string): Promise<VolumeInfo> {
    const spec = checkVolume('volume', pool, name);
    return parseImageInfo(await this.cli.rbd(this.query('volume', spec), ['info', '--format', 'json', spec]), pool);
  }

  async createVolume(pool: string, name: string, sizeBytes: number): Promise<void> {
    const spec = checkVolume('volume', pool, name);
    checkSizeBytes('volume', spec, sizeBytes);
    await this.cli.rbd(this.change('volume', spec), ['create', '--image-format', '2', '--size', `${sizeBytes}B`, spec]);
  }

  async removeVolume(pool: string, name: string): Promise<void> {
    const spec = checkVolume('volume', pool, name);
    const locks = await this.listLocks(pool, name).catch((error: unknown) => rethrowAs(error, 'volume'));
    if (locks.length > 0) {
      throw new CephError('busy', 'volume', spec, `image is locked by ${locks.map((l) => `${l.locker} (${l.address})`).join(', ')}`);
    }
    await this.cli.rbd(this.change('volume', spec), ['rm', '--no-progress', spec]);
  }

  async resizeVolume(pool: string, name: string, sizeBytes: number, allowShrink: boolean): Promise<void> {
    const spec = checkVolume('volume', pool, name);
    checkSizeBytes('volume', spec, sizeBytes);
    await this.cli.rbd(this.change('volume', spec), ['resize', '--no-progress', '--size', `${sizeBytes}B`, ...(allowShrink ? ['--allow-shrink'] : []), spec]);
  }

  async renameVolume(pool: string, from: string, to: string): Promise<void> {
    const spec = checkVolume('volume', pool, from);
    const target = checkVolume('volume', pool, to);
    await this.cli.rbd(this.change('volume', spec), ['rename', spec, target]);
  }

  async cloneVolume(source: SnapshotRef, pool: string, name: string): Promise<void> {
    const sourceSpec = checkSnapshot('volume', source);
    const target = checkVolume('volume', pool, name);
    // The protection check and the clone run side by side (a clone costs one rbd process instead of
    // two in a row: cloning many disks from one image is the common case). In the rare case that
    // the snapshot was not protected, the clone just made is removed again.
    const [checked, cloned] = await Promise.allSettled([
      this.listSnapshots(source.pool, source.image).catch((error: unknown) => rethrowAs(error, 'volume')),
      this.cli.rbd(this.change('volume', target), ['clone', '--rbd-default-clone-format', '2', sourceSpec, target]),
    ]);
    const snapshot = checked.status === 'fulfilled' ? checked.value.find((s) => s.name === source.snapshot) : undefined;
    let refusal: CephError | null = null;
    if (checked.status === 'fulfilled' && !snapshot) refusal = new CephError('not-found', 'volume', sourceSpec, `snapshot ${sourceSpec} does not exist`);
    if (snapshot && !snapshot.protected) refusal = new CephError('invalid', 'volume', sourceSpec, `snapshot ${sourceSpec} is not protected; protect it before cloning`);
    if (refusal !== null || checked.status === 'rejected') {
      if (cloned.status === 'fulfilled') await this.cli.rbd(this.change('volume', target), ['rm', '--no-progress', target]);
      throw refusal ?? (checked as PromiseRejectedResult).reason;
    }
    if (cloned.status === 'rejected') throw cloned.reason;
  }

  async listClones(source: SnapshotRef): Promise<Array<{ pool: string; image: string }>> {
    const spec = checkSnapshot('snapshot', source);
    return parseChildren(await this.cli.rbd(this.query('snapshot', spec), ['children', '--format', 'json', spec]));
  }

  async listSnapshots(pool: string, image: string): Promise<SnapshotInfo[]> {
    const spec = checkVolume('snapshot', pool, image);
    return parseSnapLs(await this.cli.rbd(this.query('snapshot', spec), ['snap', 'ls', '--format', 'json', spec]));
  }

  async createSnapshot(ref: SnapshotRef): Promise<void> {
    const spec = checkSnapshot('snapshot', ref);
    await this.cli.rbd(this.change('snapshot', spec), ['snap', 'create', '--no-progress', spec]);
  }

  async removeSnapshot(ref: SnapshotRef): Promise<void> {
    const spec = checkSnapshot('snapshot', ref);
    await this.refuseWithClones(ref, spec);
    await this.cli.rbd(this.change('snapshot', spec), ['snap', 'rm', '--no-progress', spec]);
  }

  async rollbackSnapshot(ref: SnapshotRef): Promise<void> {
    const spec = checkSnapshot('snapshot', ref);
    await this.cli.rbd(this.change('snapshot', spec), ['snap', 'rollback', '--no-progress', spec]);
  }

  async protectSnapshot(ref: SnapshotRef): Promise<void> {
    const spec = checkSnapshot('snapshot', ref);
    await this.cli.rbd(this.change('snapshot', spec), ['snap', 'protect', spec]);
  }

  async unprotectSnapshot(ref: SnapshotRef): Promise<void> {
    const spec = checkSnapshot('snapshot', ref);
    await this.refuseWithClones(ref, spec);
    await this.cli.rbd(this.change('snapshot', spec), ['snap', 'unprotect', spec]);
  }

  async importVolume(pool: string, name: string, sourcePath: string, format: ImageFormat, options: TransferOptions): Promise<void> {
    await importVolume(this, pool, name, sourcePath, format, options);
  }

  async exportVolume(pool: string, name: string, destinationPath: string, options: TransferOptions): Promise<void> {
    await exportVolume(this, pool, name, destinationPath, options);
  }

  async listLocks(pool: string, image: string): Promise<RbdLock[]> {
    const spec = checkVolume('lock', pool, image);
    return parseLockLs(await this.cli.rbd(this.query('lock', spec), ['lock', 'ls', '--format', 'json', spec]));
  }

  async removeLock(pool: string, image: string, lock: Pick<RbdLock, 'id' | 'locker'>): Promise<void> {
    const spec = checkVolume('lock', pool, image);
    await this.cli.rbd(this.change('lock', spec), ['lock', 'rm', spec, lock.id, lock.locker]);
  }

  async listWatchers(pool: string, image: string): Promise<RbdWatcher[]> {
    const spec = checkVolume('watchers', pool, image);
    return parseRbdStatus(await this.cli.rbd(this.query('watchers', spec), ['status', '--format', 'json', spec]));
  }

  async blocklistAdd(address: string, expireS: number): Promise<void> {
    checkAddress(address);
    if (!Number.isFinite(expireS) || expireS <= 0) throw new CephError('invalid', 'blocklist', address, `expiry must be a positive number of seconds, got ${expireS}`);
    await this.cli.ceph(this.change('blocklist', address), ['osd', 'blocklist', 'add', address, String(expireS)]);
  }

  async blocklistList(): Promise<BlocklistEntry[]> {
    return parseBlocklist(await this.cli.ceph(this.query('blocklist', null), ['osd', 'blocklist', 'ls']));
  }

  async blocklistRemove(address: string): Promise<void> {
    checkAddress(address);
    await this.cli.ceph(this.change('blocklist', address), ['osd', 'blocklist', 'rm', address]);
  }

  async clientKey(client: string): Promise<string> {
    checkClientId(client);
    return parseAuthKey(await this.cli.ceph(this.query('auth', `client.${client}`), ['auth', 'get-key', `client.${client}`]));
  }

  /** Unprotecting or removing a snapshot that still has clones is refused (see the header). */
  private async refuseWithClones(ref: SnapshotRef, spec: string): Promise<void> {
    const clones = await this.listClones(ref);
    if (clones.length > 0) {
      throw new CephError('busy', 'snapshot', spec, `snapshot ${spec} has ${clones.length} clone(s): ${clones.map((c) => `${c.pool}/${c.image}`).join(', ')}`);
    }
  }

  spec(operation: CephOperation, subject: string | null, timeoutMs: number): CallSpec {
    return { operation, subject, timeoutMs };
  }

  query(operation: CephOperation, subject: string | null): CallSpec {
    return this.spec(operation, subject, this.t.queryMs);
  }

  change(operation: CephOperation, subject: string | null): CallSpec {
    return this.spec(operation, subject, this.t.changeMs);
  }

  get timeouts(): Readonly<CephTimeouts> {
    return this.t;
  }
}

/** A helper call's error under the caller's operation name (a lock check is part of removing a volume). */
function rethrowAs(error: unknown, operation: CephOperation): never {
  if (error instanceof CephError) throw new CephError(error.kind, operation, error.subject, error.detail, { cause: error });
  throw error;
}
