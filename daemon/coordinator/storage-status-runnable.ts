// Storage status, a primary runnable: every intervalMs it asks Ceph for the cluster's health,
// pools, usage, OSDs and the images of the pools pvc manages (one `rbd ls -l` per pool, which
// names each image's snapshots as well: no call per volume), plans the status documents
// (reconcile/storage-status-plan.ts) and writes those that changed. Statuses carry no timestamp
// (only /storage/status does), so a quiet cluster costs one write per refresh.
//
// It never blocks the keepalive: everything is asynchronous, one refresh runs at a time, and the
// Ceph phase is bounded by refreshTimeoutMs (a refresh still waiting on Ceph when the next is due
// is not doubled; its late answer is dropped). Before writing it checks that it may still act as
// primary, and stop() waits only for writes in flight, never for Ceph.
import { errorMessage } from '../../common/errors.ts';
import { readAllPools, readAllVolumes, readStorageNames } from '../../common/client/storage-read.ts';
import type { OsdStatus, ZkLayout, ZRef } from '../../common/zk/schema.ts';
import { isZkError, type ZkStore } from '../../common/zk/store.ts';
import type { CephDriver, ListedVolume } from '../drivers/ceph/port.ts';
import { failedRefresh, planStorageStatus, type CephFacts, type ManagedSpecs } from '../reconcile/storage-status-plan.ts';
import type { PrimaryContext, Runnable } from './runnables.ts';

export const DEFAULT_STORAGE_STATUS_INTERVAL_MS = 10_000;
export const DEFAULT_STORAGE_REFRESH_TIMEOUT_MS = 30_000;

export interface StorageStatusDeps {
  store: ZkStore;
  layout: ZkLayout;
  ceph: CephDriver;
  intervalMs: number;
  refreshTimeoutMs: number;
}

class RefreshTimeout extends Error {}

export class StorageStatusRunnable implements Runnable {
  readonly name = 'storage-status';
  private context: PrimaryContext | null = null;
  private timer: NodeJS.Timeout | null = null;
  private cephInFlight = false;
  private writing: Promise<void> | null = null;
  /** Bumped by every start and stop, so that a refresh of an earlier term schedules nothing. */
  private term = 0;
  /** Refreshes completed (with or without a Ceph error); for tests and logs. */
  refreshes = 0;

  constructor(private readonly deps: StorageStatusDeps) {}

  async start(context: PrimaryContext): Promise<void> {
    this.context = context;
    this.term += 1;
    this.schedule(0, this.term);
  }

  async stop(): Promise<void> {
    this.term += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.context = null;
    await this.writing?.catch(() => undefined);
  }

  private schedule(delayMs: number, term: number): void {
    if (!this.context || term !== this.term) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh().finally(() => this.schedule(this.deps.intervalMs, term));
    }, delayMs);
  }

  /** One refresh; errors are recorded in /storage/status and logged, never thrown. */
  async refresh(): Promise<void> {
    const context = this.context;
    if (!context?.stillPrimary() || this.cephInFlight) return;
    const { store, layout } = this.deps;
    try {
      const specs = await this.readSpecs();
      let facts: CephFacts;
      try {
        facts = await this.readCephBounded(specs);
      } catch (error) {
        const message = error instanceof RefreshTimeout ? error.message : `ceph: ${errorMessage(error)}`;
        context.log.warn({ err: message }, 'storage refresh failed');
        await this.write(context, async () => void (await store.update(layout.storageStatus(), (previous) => failedRefresh(previous ?? null, message, context.node))));
        return;
      }
      const plan = planStorageStatus(facts, specs, context.node, Date.now());
      await this.write(context, async () => {
        await Promise.all([
          ...plan.pools.map((p) => this.putIfChanged(layout.poolStatus(p.pool), p.status)),
          ...plan.volumes.map((v) => this.putIfChanged(layout.volumeStatus(v.pool, v.volume), v.status)),
          ...plan.snapshots.map((s) => this.putIfChanged(layout.snapshotStatus(s.pool, s.volume, s.snapshot), s.status)),
          this.writeOsds(plan.osds),
        ]);
        await this.putIfChanged(layout.storageStatus(), plan.storage);
      });
    } catch (error) {
      context.log.warn({ err: errorMessage(error) }, 'storage refresh could not be recorded');
    } finally {
      this.refreshes += 1;
    }
  }

  private async readSpecs(): Promise<ManagedSpecs> {
    const pools = (await readAllPools(this.deps)).map((p) => p.spec.value.name);
    const volumes = (await readAllVolumes(this.deps, pools)).map((v) => ({ pool: v.spec.value.pool, volume: v.spec.value.name }));
    const perVolume = await Promise.all(
      volumes.map(async (v) => (await readStorageNames(this.deps, this.deps.layout.snapshotsDir(v.pool, v.volume), 'snapshot')).map((snapshot) => ({ ...v, snapshot }))),
    );
    return { pools, volumes, snapshots: perVolume.flat() };
  }

  /** Ceph's facts within refreshTimeoutMs; a late answer is dropped, and no refresh starts until it came. */
  private async readCephBounded(specs: ManagedSpecs): Promise<CephFacts> {
    this.cephInFlight = true;
    const reading = this.readCeph(specs).finally(() => {
      this.cephInFlight = false;
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RefreshTimeout(`ceph did not answer within ${this.deps.refreshTimeoutMs} ms`)), this.deps.refreshTimeoutMs);
    });
    reading.catch(() => undefined); // its error is reported through the race, or dropped when late
    try {
      return await Promise.race([reading, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async readCeph(specs: ManagedSpecs): Promise<CephFacts> {
    const { ceph } = this.deps;
    const [status, pools, usage, osds] = await Promise.all([ceph.status(), ceph.listPools(), ceph.poolUsage(), ceph.listOsds()]);
    const inCeph = new Set(pools.map((p) => p.name));
    const present = specs.pools.filter((pool) => inCeph.has(pool));
    const lists = await Promise.all(present.map(async (pool): Promise<[string, ListedVolume[]]> => [pool, await ceph.listVolumes(pool)]));
    return { status, pools, usage, osds, volumesByPool: new Map(lists) };
  }

  /** Runs the writes only while still primary; stop() waits for them. */
  private async write(context: PrimaryContext, work: () => Promise<void>): Promise<void> {
    if (!context.stillPrimary() || this.context !== context) return;
    this.writing = work();
    try {
      await this.writing;
    } finally {
      this.writing = null;
    }
  }

  private async putIfChanged<T>(ref: ZRef<T>, value: T): Promise<void> {
    const { store } = this.deps;
    const current = await store.get(ref);
    if (current && JSON.stringify(current.value) === JSON.stringify(value)) return;
    try {
      if (current) await store.set(ref, value, current.version);
      else await store.create(ref, value);
    } catch (error) {
      // The spec went (a client removed the pool, volume or snapshot), or another write won: the
      // next refresh writes what is true then.
      if (isZkError(error, 'NO_NODE') || isZkError(error, 'BAD_VERSION') || isZkError(error, 'NODE_EXISTS')) return;
      throw error;
    }
  }

  private async writeOsds(osds: OsdStatus[]): Promise<void> {
    const { store, layout } = this.deps;
    const known = new Set(osds.map((o) => String(o.id)));
    const stored = await store.children(layout.osdsDir());
    await Promise.all([
      ...osds.map((osd) => this.putIfChanged(layout.osd(osd.id), osd)),
      ...stored.filter((id) => !known.has(id) && /^\d+$/.test(id)).map((id) => store.removeIfPresent(layout.osd(Number(id)))),
    ]);
  }
}
