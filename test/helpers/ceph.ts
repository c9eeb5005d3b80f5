// One real single-host Ceph cluster per vitest run (scripts/lib/ceph-cluster.ts), started lazily
// by the first test file that asks for it and shared by all: a cluster takes ~8 s and ~450 MB to
// start, far more than a test file's pools cost. Test files run in parallel worker processes, so
// exactly one process starts it: the one that creates the lock folder (mkdir is atomic) starts
// the cluster and then writes a ready file (or a failed file with the reason); the others poll
// for either. The global teardown (global-setup.ts) stops it, whoever started it.
//
// Isolation: each test file works in its own pools (uniqueCephName), created and removed by it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { CephCliDriver } from '../../daemon/drivers/ceph/ceph-cli.ts';
import type { PoolSettings } from '../../daemon/drivers/ceph/port.ts';
import { readCephCluster, startCephCluster, type CephCluster } from '../../scripts/lib/ceph-cluster.ts';

/** Start alone: ~8 s here; with other runs loading the two cores, minutes. */
export const CEPH_START_TIMEOUT_MS = 300_000;
/** For a test file's beforeAll that starts or waits for the cluster and creates a pool (seconds each). */
export const CEPH_SETUP_TIMEOUT_MS = CEPH_START_TIMEOUT_MS + 120_000;
/** Pools in tests: 8 PGs of one replica peer in seconds on one OSD. */
export const TEST_POOL_SETTINGS: Readonly<PoolSettings> = { pgNum: 8, size: 1, minSize: 1 };
const POLL_MS = 200;

let shared: Promise<CephCluster> | null = null;

/** The run's Ceph cluster, started by whichever test file asks first. */
export function sharedCeph(): Promise<CephCluster> {
  shared ??= startOrWait(inject('testRunDir'));
  return shared;
}

/** A driver for the shared cluster as client.admin. */
export async function sharedCephDriver(): Promise<{ cluster: CephCluster; driver: CephCliDriver }> {
  const cluster = await sharedCeph();
  return { cluster, driver: new CephCliDriver({ confPath: cluster.confPath, clientId: 'admin' }) };
}

let counter = 0;

/** A pool or image name no other test file (process) uses: prefix, pid, counter, random. */
export function uniqueCephName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}

async function startOrWait(runDir: string): Promise<CephCluster> {
  const dir = path.join(runDir, 'ceph');
  const lock = path.join(runDir, 'ceph.starting');
  const ready = path.join(runDir, 'ceph.ready');
  const failed = path.join(runDir, 'ceph.failed');
  mkdirSync(runDir, { recursive: true });
  let starter = false;
  try {
    mkdirSync(lock);
    starter = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (starter) {
    try {
      const cluster = await startCephCluster({ dir, osds: 1, objectStore: 'bluestore', readyTimeoutMs: CEPH_START_TIMEOUT_MS });
      writeFileSync(ready, `${process.pid}\n`);
      return cluster;
    } catch (error) {
      writeFileSync(failed, error instanceof Error ? (error.stack ?? error.message) : String(error));
      throw error;
    }
  }
  const deadline = Date.now() + CEPH_START_TIMEOUT_MS;
  for (;;) {
    if (existsSync(failed)) throw new Error(`the shared ceph cluster failed to start (in another test process):\n${readFileSync(failed, 'utf8')}`);
    if (existsSync(ready)) {
      const cluster = readCephCluster(dir);
      if (cluster === null) throw new Error(`the shared ceph cluster in ${dir} is ready but its cluster.json is unreadable`);
      return cluster;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${CEPH_START_TIMEOUT_MS} ms waiting for the shared ceph cluster in ${dir}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
