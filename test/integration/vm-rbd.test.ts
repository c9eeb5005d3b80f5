// VMs on RBD disks with real Ceph, libvirtd and QEMU (TCG): two pvcd coordinators, each with its
// own libvirtd node and the run's shared Ceph. The test guest prints the first line of its vda,
// so a marker written into the volume proves QEMU reads the RBD disk through libvirt's ceph
// secret. Then the volume's guard: a live-migration with the disk attached; a start refused
// while a live node holds the volume; and after that node dies, the holder blocklisted first,
// its lock removed, and the VM started.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { setVmState } from '../../common/client/vm-state.ts';
import { moveVm } from '../../common/client/vm-move.ts';
import { run } from '../../common/exec.ts';
import type { VmSpec, VmStatus } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import type { CephCliDriver } from '../../daemon/drivers/ceph/ceph-cli.ts';
import type { CephCluster } from '../../scripts/lib/ceph-cluster.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import { CEPH_SETUP_TIMEOUT_MS, TEST_POOL_SETTINGS, sharedCephDriver, uniqueCephName } from '../helpers/ceph.ts';
import { readConsole, tickUptimes, waitForConsoleLine } from '../helpers/guest-domain.ts';
import { GUEST_READY_TIMEOUT_MS, startLibvirtPair, type LibvirtPair } from '../helpers/libvirt-pair.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { guestVmSpec } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';
import { dumpVm } from '../../common/client/vm-dump.ts';

const NODES = ['rb1', 'rb2'] as const;
const VM = 'rbdguest';
const IMAGE = 'disk0';
const MARKER = `RBD-DISK-MARKER-${process.pid}`;
/** Short, so the refusal shows within the test; the default is 45 s. */
const HOLDER_WAIT_LIMIT_MS = 3_000;

let store: ZkStore;
let pair: LibvirtPair;
let fleet: PvcdFleet;
let ceph: { cluster: CephCluster; driver: CephCliDriver };
let pool: string;
const consoleDirs = new Map<string, string>();
const consoleOf = (node: string) => path.join(consoleDirs.get(node) as string, `${VM}.log`);
const target = () => ({ store, layout: fleet.layout });

async function status(): Promise<VmStatus | null> {
  return (await store.get(fleet.layout.vmStatus(VM)))?.value ?? null;
}

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
  ceph = await sharedCephDriver();
  pool = uniqueCephName('rbdvm');
  await ceph.driver.createPool(pool, TEST_POOL_SETTINGS);
  const dir = path.join(inject('testRunDir'), `rbdvm-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  // 1 MiB raw image whose first line is the marker; the guest prints that line.
  const raw = path.join(dir, 'disk0.raw');
  const bytes = Buffer.alloc(1024 * 1024);
  bytes.write(`${MARKER}\n`);
  writeFileSync(raw, bytes);
  await ceph.driver.importVolume(pool, IMAGE, raw, 'raw', { timeoutMs: 60_000 });

  pair = await startLibvirtPair(dir, NODES);
  fleet = new PvcdFleet(inject('zkHosts'), uniqueClusterName('pvcdrbd'), store, { baseDir: inject('testRunDir') });
  const ports = await findFreePorts(NODES.length);
  NODES.forEach((node, i) => {
    const consoleLogDir = path.join(dir, `console-${node}`);
    mkdirSync(consoleLogDir, { recursive: true });
    consoleDirs.set(node, consoleLogDir);
    fleet.start(node, 'coordinator', {
      runnables: ['placement'],
      hypervisor: { driver: 'libvirt', uri: pair.nodes[i]?.uri as string, migrateUri: `tcp://127.0.0.1:${ports[i]}`, consoleLogDir, shutdownTimeoutMs: 30_000 },
      sections: { ceph: { driver: 'real', conf: ceph.cluster.confPath, id: 'admin', keyring: ceph.cluster.adminKeyringPath, holderWaitLimitMs: HOLDER_WAIT_LIMIT_MS } },
    });
  });
  await waitFor('both nodes running with their hypervisor', async () => {
    const statuses = await Promise.all(NODES.map((n) => store.get(fleet.layout.nodeStatus(n))));
    return statuses.every((s) => s?.value.hypervisor && s.value.daemonState === 'run');
  }, 120_000);
}, CEPH_SETUP_TIMEOUT_MS + 300_000);

afterAll(async () => {
  await fleet?.stopAll();
  await pair?.stop();
  if (pool) await ceph?.driver.removePool(pool).catch(() => undefined);
  await store?.close();
}, 120_000);

describe('VMs on RBD disks', () => {
  it('starts a guest from its RBD volume: the guest reads the marker from vda', async () => {
    const spec: VmSpec = { ...guestVmSpec(pair.guest, VM, '7e570000-0000-4000-8000-0000000000d1', true), disks: [{ target: 'vda', source: { type: 'rbd', pool, image: IMAGE } }] };
    await store.create(fleet.layout.vm(VM), spec);
    const started = await waitFor('the guest started', async () => ((await status())?.state === 'start' ? await status() : null), 120_000);
    const line = await waitForConsoleLine(consoleOf(started.node), /GUEST-DISK: vda first line: .*/, GUEST_READY_TIMEOUT_MS);
    expect(line).toContain(MARKER);
    expect(started.ranOn).toBe(started.node);
    // QEMU holds the volume open: one watcher.
    expect((await ceph.driver.listWatchers(pool, IMAGE)).length).toBeGreaterThanOrEqual(1);
    // `pvc vm dump` renders the disk as the node did, from the Ceph access the node publishes.
    const dumped = await dumpVm(target(), VM);
    expect(dumped).toContain(`<source protocol='rbd' name='${pool}/${IMAGE}'>`);
    expect(dumped).toMatch(/<host name='127\.0\.0\.1' port='\d+'\/>/);
    // Each node found its Ceph client IP from the route to the monitor: both 127.0.0.1 here, so
    // the holder check cannot tell them apart and puts holders to the last node (the tests below).
    const published = await Promise.all(NODES.map(async (n) => (await store.get(fleet.layout.nodeStatus(n)))?.value.cephClientIp));
    expect(published).toEqual(['127.0.0.1', '127.0.0.1']);
  }, 300_000);

  it('live-migrates the guest with its RBD disk; its uptime goes on', async () => {
    const from = (await status())?.node as string;
    const to = NODES.find((n) => n !== from) as string;
    await waitForConsoleLine(consoleOf(from), /GUEST-STAYING/, GUEST_READY_TIMEOUT_MS);
    await waitFor('a tick', () => tickUptimes(readConsole(consoleOf(from))).length >= 1, 60_000);
    const lastUptime = Math.max(...tickUptimes(readConsole(consoleOf(from))));
    const result = await moveVm(store, fleet.layout, VM, 'migrate', { target: to, waitMs: 180_000 });
    expect(result).toMatchObject({ from, to, done: true });
    await waitFor('ticks on the new node', () => tickUptimes(readConsole(consoleOf(to))).length >= 2, 60_000);
    const after = tickUptimes(readConsole(consoleOf(to)));
    expect(after[after.length - 1]).toBeGreaterThan(lastUptime);
    expect((await status())?.ranOn).toBe(to);
  }, 300_000);

  it('refuses to start while a live node holds the volume, naming the node and the client', async () => {
    const holder = (await status())?.node as string;
    const other = NODES.find((n) => n !== holder) as string;
    await setVmState(target(), VM, 'stop', { waitMs: 120_000 });
    expect((await ceph.driver.listWatchers(pool, IMAGE)).length).toBe(0);
    // A client that does not let go: an advisory lock taken by hand, in the holder's name.
    await run('rbd', ['--conf', ceph.cluster.confPath, '--id', 'admin', 'lock', 'add', `${pool}/${IMAGE}`, 'held-by-hand'], { timeoutMs: 30_000 });
    const [lock] = await ceph.driver.listLocks(pool, IMAGE);
    expect(lock).toBeDefined();
    await store.update(fleet.layout.vm(VM), (current) => ({ ...(current as VmSpec), node: other, placement: { ...(current as VmSpec).placement, nodeLimit: [other] }, desiredState: 'start' as const }));
    const failed = await waitFor('the start refused', async () => ((await status())?.state === 'fail' ? await status() : null), 60_000);
    expect(failed.node).toBe(other);
    expect(failed.failureReason).toBe(`rbd volume(s) of vm ${VM} are held on live node ${holder}: ${pool}/${IMAGE} by client ${lock?.address}`);
    expect(failed.ranOn).toBe(holder);
    expect(await ceph.driver.listLocks(pool, IMAGE)).toHaveLength(1);
  }, 180_000);

  it('once the holder node is dead: blocklists its client first, removes the lock, starts the VM', async () => {
    const holder = (await status())?.ranOn as string;
    const [lock] = await ceph.driver.listLocks(pool, IMAGE);
    fleet.signal(holder, 'SIGKILL');
    await waitFor(`${holder}'s session gone`, async () => (await store.stat(fleet.layout.nodeAlive(holder))) === null, 60_000);
    const result = await setVmState(target(), VM, 'start', { waitMs: 180_000 });
    expect(result).toMatchObject({ outcome: 'completed', resetFailure: true, state: 'start' });
    expect((await ceph.driver.blocklistList()).map((entry) => entry.address)).toContain(lock?.address);
    expect(await ceph.driver.listLocks(pool, IMAGE)).toEqual([]);
    const node = (await status())?.node as string;
    expect(await waitForConsoleLine(consoleOf(node), /GUEST-DISK: vda first line: .*/, GUEST_READY_TIMEOUT_MS)).toContain(MARKER);
    await ceph.driver.blocklistRemove(lock?.address as string);
  }, 300_000);
});
