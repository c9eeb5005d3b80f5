// The fence's Ceph step against the run's real Ceph cluster (test/helpers/ceph.ts): the dead
// node's VMs hold their RBD volumes open (a qemu-nbd process, a watcher, like QEMU) and one holds
// an advisory lock (a crashed holder's); the blocklist step finds those clients through the real
// ceph/rbd CLIs, blocklists them, and the OSDs drop the fenced client's watch. VMs are not wired
// to RBD disks yet, so the "old node" here is the qemu-nbd client, not a guest.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VmSpec } from '../../common/zk/schema.ts';
import { blocklistStep } from '../../daemon/coordinator/fence-steps.ts';
import type { CephCliDriver } from '../../daemon/drivers/ceph/ceph-cli.ts';
import type { CephCluster } from '../../scripts/lib/ceph-cluster.ts';
import { rbdLockAdd, rbdOpen, type OpenImage } from '../helpers/ceph-clients.ts';
import { CEPH_SETUP_TIMEOUT_MS, TEST_POOL_SETTINGS, sharedCephDriver, uniqueCephName } from '../helpers/ceph.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';

const VOLUME_BYTES = 8 * 1024 * 1024;
let cluster: CephCluster;
let driver: CephCliDriver;
let pool: string;
let workDir: string;
let opened: OpenImage | null = null;
const blocklisted: string[] = [];

const vm = (name: string, image: string): { spec: VmSpec; status: null } => ({ spec: { ...TEST_GUEST_SPEC, name, disks: [{ target: 'vda', source: { type: 'rbd', pool, image } }] }, status: null });

beforeAll(async () => {
  ({ cluster, driver } = await sharedCephDriver());
  pool = uniqueCephName('fence');
  workDir = path.join(inject('testRunDir'), pool);
  mkdirSync(workDir, { recursive: true });
  await driver.createPool(pool, TEST_POOL_SETTINGS);
  await driver.createVolume(pool, 'open-disk', VOLUME_BYTES);
  await driver.createVolume(pool, 'locked-disk', VOLUME_BYTES);
}, CEPH_SETUP_TIMEOUT_MS);

afterAll(async () => {
  for (const address of blocklisted) await driver?.blocklistRemove(address).catch(() => undefined);
  await opened?.close();
  if (pool) await driver?.removePool(pool).catch(() => undefined);
}, 120_000);

describe('the fence blocklist on real Ceph', () => {
  it('blocklists the watchers and lock holders of the dead node\'s volumes; the OSDs drop the watch', async () => {
    opened = await rbdOpen(cluster, driver, pool, 'open-disk', workDir);
    await rbdLockAdd(cluster, pool, 'locked-disk', 'pvc-fence-test');
    const lockAddress = (await driver.listLocks(pool, 'locked-disk'))[0]?.address as string;
    expect(lockAddress).toBeTruthy();
    const outcome = await blocklistStep(driver, { node: 'dead', vms: [vm('v1', 'open-disk'), vm('v2', 'locked-disk')], reported: [], expireS: 600 }, pino({ level: 'silent' }));
    blocklisted.push(opened.address, lockAddress);
    expect(outcome.result).toBe('done');
    expect(outcome.detail).toContain(opened.address);
    const list = (await driver.blocklistList()).map((b) => b.address);
    expect(list).toEqual(expect.arrayContaining([opened.address, lockAddress]));
    const address = opened.address;
    await waitFor('the fenced client to lose its watch', async () => !(await driver.listWatchers(pool, 'open-disk')).some((w) => w.address === address), 180_000);
  }, 240_000);
});
