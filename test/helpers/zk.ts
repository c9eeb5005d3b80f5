// ZooKeeper helpers for tests: the shared test credentials, unique cluster names (each test
// works under its own /pvc/<cluster>), and stores with test-friendly timeouts that are tracked
// so a test file can close them all in afterAll(closeTrackedStores), even after a failure.
// No vitest import here: the child-process fixtures import this file too.
import { randomBytes } from 'node:crypto';
import { assertName } from '../../common/names.ts';
import { ZkStore, type StoreOptions, type ZkAuth } from '../../common/zk/store.ts';

/** The digest credentials every test store uses; a fixed secret, good for tests only. */
export const testAuth: ZkAuth = { user: 'pvc', password: 'pvc-test-secret-5b1e' };

/** A session this short makes expiry tests quick; tickTime 500 allows down to 1000. */
export const TEST_SESSION_TIMEOUT_MS = 2_000;
export const TEST_CONNECT_TIMEOUT_MS = 5_000;
export const TEST_REQUEST_TIMEOUT_MS = 5_000;

let counter = 0;

/** A valid DNS label, unique per call across processes: prefix, PID, counter, random. */
export function uniqueClusterName(prefix: string): string {
  counter += 1;
  const suffix = `-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
  const head = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+/, '').slice(0, 63 - suffix.length) || 't';
  return assertName('cluster', `${head}${suffix}`);
}

const tracked = new Set<ZkStore>();

export async function connectStore(hosts: string, options: Partial<Omit<StoreOptions, 'hosts'>> = {}): Promise<ZkStore> {
  const store = await ZkStore.connect({
    hosts,
    auth: testAuth,
    sessionTimeoutMs: TEST_SESSION_TIMEOUT_MS,
    connectTimeoutMs: TEST_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: TEST_REQUEST_TIMEOUT_MS,
    ...options,
  });
  tracked.add(store);
  return store;
}

/** Closes every store connectStore opened in this process (for afterAll). */
export async function closeTrackedStores(): Promise<void> {
  const stores = [...tracked];
  tracked.clear();
  await Promise.all(stores.map((store) => store.close()));
}
