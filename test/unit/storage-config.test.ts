// pvcd's config for the storage-status runnable: its interval and timeout defaults, and the
// refusal of the runnable without a ceph section. The registry builds it with the given driver.
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../daemon/config.ts';
import { buildRunnables } from '../../daemon/coordinator/registry.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { SimCeph } from '../../daemon/drivers/ceph/sim.ts';

const base = { cluster: 'c1', node: 'n1', role: 'coordinator', zookeeper: { hosts: '127.0.0.1:2181', user: 'pvc', password: 'pw' } };
const ceph = { driver: 'sim', conf: '/etc/ceph/ceph.conf' };

describe('storage-status in the pvcd config', () => {
  it('refreshes every 10 s by default, with a 30 s bound on the Ceph calls', () => {
    const config = validateConfig({ ...base, ceph, coordinator: { runnables: ['storage-status'] } }, 't');
    expect(config.timeouts).toMatchObject({ storageStatusIntervalMs: 10_000, storageRefreshTimeoutMs: 30_000 });
    expect(validateConfig({ ...base, ceph, timeouts: { storageStatusIntervalMs: 2_000 } }, 't').timeouts.storageStatusIntervalMs).toBe(2_000);
  });

  it('refuses the runnable without a ceph section, and intervals out of range', () => {
    expect(() => validateConfig({ ...base, coordinator: { runnables: ['storage-status'] } }, 'f.yaml')).toThrow('invalid pvcd config f.yaml: the storage-status runnable needs a ceph section (driver, conf, id)');
    expect(() => validateConfig({ ...base, timeouts: { storageStatusIntervalMs: 10 } }, 'f.yaml')).toThrow(/timeouts.storageStatusIntervalMs/);
  });

  it('is built by the registry with the ceph driver it is given', () => {
    const config = validateConfig({ ...base, ceph, coordinator: { runnables: ['storage-status'] } }, 't');
    const deps = { store: {} as ZkStore, layout: new ZkLayout('c1'), resyncIntervalMs: 1_000 };
    expect(buildRunnables(config, { ...deps, ceph: new SimCeph() }).map((r) => r.name)).toEqual(['storage-status']);
    expect(() => buildRunnables(config, deps)).toThrow('storage-status runnable without a ceph driver');
  });
});
