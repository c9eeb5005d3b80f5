// What the storage benchmarks share: a standalone ZooKeeper and (for the sections that act on
// Ceph) a single-host Ceph under one bench folder, a storage target per benchmark cluster, a CLI
// config folder whose default connection has the Ceph settings, and a timed command runner with a
// timeout fit for a transfer. Everything is stopped by stop(), even after a failure.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { StorageTarget } from '../../common/client/storage-target.ts';
import { addConnection } from '../../common/connections.ts';
import { run } from '../../common/exec.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { CephCliDriver } from '../../daemon/drivers/ceph/ceph-cli.ts';
import { startCephCluster, stopCephClustersUnder, type CephCluster } from '../../scripts/lib/ceph-cluster.ts';
import { REPO_ROOT } from '../../scripts/lib/pvcd-process.ts';
import { startEnsemble, type Ensemble } from '../../scripts/lib/zk-ensemble.ts';
import { connectStore, testAuth } from '../helpers/zk.ts';

export const BENCH_DIR = path.join(REPO_ROOT, '.state', 'bench-storage');
/**
 * The OSD's sparse block file. Clones are thin, but each counts with its full size against the
 * fullness limit while it is in flight; 64 GiB leaves room for many clones of a 2 GiB image at once.
 */
const OSD_SIZE_BYTES = 64 * 1024 ** 3;
/** A 256 MiB upload on a loaded 2-core machine: seconds to tens of seconds; this bounds a hung one. */
export const TRANSFER_COMMAND_TIMEOUT_MS = 600_000;

export interface StorageBench {
  ensemble: Ensemble;
  store: ZkStore;
  /** Null when no section that needs Ceph was asked for. */
  ceph: CephCluster | null;
  driver: CephCliDriver | null;
  /** A migrated benchmark cluster in ZooKeeper, with the driver when Ceph runs. */
  cluster(name: string): Promise<StorageTarget & { cliEnv: Record<string, string> }>;
  stop(): Promise<void>;
}

export async function startStorageBench(withCeph: boolean): Promise<StorageBench> {
  // A bench run that died leaves its Ceph daemons running; they are stopped before the wipe.
  await stopCephClustersUnder(BENCH_DIR, { maxDepth: 1 });
  rmSync(BENCH_DIR, { recursive: true, force: true });
  mkdirSync(BENCH_DIR, { recursive: true });
  const [ensembleResult, cephResult] = await Promise.allSettled([
    startEnsemble({ dir: path.join(BENCH_DIR, 'zk'), size: 1, detached: false }),
    withCeph ? startCephCluster({ dir: path.join(BENCH_DIR, 'ceph'), osds: 1, objectStore: 'bluestore', osdSizeBytes: OSD_SIZE_BYTES }) : Promise.resolve(null),
  ]);
  if (ensembleResult.status === 'rejected' || cephResult.status === 'rejected') {
    if (ensembleResult.status === 'fulfilled') await ensembleResult.value.stop();
    if (cephResult.status === 'fulfilled') await cephResult.value?.stop();
    throw ensembleResult.status === 'rejected' ? ensembleResult.reason : (cephResult as PromiseRejectedResult).reason;
  }
  const ensemble = ensembleResult.value;
  const ceph = cephResult.value;
  const store = await connectStore(ensemble.hosts, { sessionTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  const driver = ceph ? new CephCliDriver({ confPath: ceph.confPath, clientId: 'admin', keyringPath: ceph.adminKeyringPath }) : null;
  return {
    ensemble,
    store,
    ceph,
    driver,
    async cluster(name) {
      const layout = new ZkLayout(name);
      await migrateSchema(store, layout);
      const configDir = path.join(BENCH_DIR, `pvc-config-${name}`);
      const env = { PVC_CONFIG_DIR: configDir };
      const access = ceph ? { ceph: { conf: ceph.confPath, id: 'admin', keyring: ceph.adminKeyringPath } } : {};
      addConnection({ name: 'bench', hosts: ensemble.hosts, cluster: name, ...testAuth, ...access }, { replace: true, makeDefault: true }, env);
      // Sections without Ceph never reach the driver: only reads, which need none.
      return { store, layout, ceph: driver as CephCliDriver, cliEnv: env };
    },
    async stop() {
      await store.close().catch(() => undefined);
      await ceph?.stop();
      await ensemble.stop();
      // The OSD's block file holds every byte the benchmarks wrote (GiBs after the uploads).
      if (ceph) await stopCephClustersUnder(BENCH_DIR, { maxDepth: 1, dropData: true });
    },
  };
}

/** Wall time of one command from the repository root, process start included, with a transfer's timeout. */
export async function timeLongCommand(file: string, args: readonly string[], env?: Record<string, string>): Promise<number> {
  const started = performance.now();
  await run(file, args, { timeoutMs: TRANSFER_COMMAND_TIMEOUT_MS, cwd: REPO_ROOT, env: env ? ({ ...process.env, ...env } as Record<string, string>) : undefined });
  return performance.now() - started;
}
