// The RBD holder check as pvcd runs it (runtime/rbd-guard.ts) on real ZooKeeper and the
// simulated Ceph: it reads every node's published Ceph client IP, session and fencing, and puts
// each holder to the node whose IP its address carries, not to the node the VM last ran on.
// The sim's clients are all at 127.0.0.1, so the node publishing 127.0.0.1 is the holder's.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout, type NodeStatus, type VmSpec, type VmStatus } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { SimCeph } from '../../daemon/drivers/ceph/sim.ts';
import { RbdGuard } from '../../daemon/runtime/rbd-guard.ts';
import { TEST_POOL_SETTINGS } from '../helpers/ceph.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';

const log = pino({ level: 'silent' });
const spec: VmSpec = { ...TEST_GUEST_SPEC, name: 'web1', disks: [{ target: 'vda', source: { type: 'rbd', pool: 'vms', image: 'web1_disk0' } }] };
/** The VM last ran on hv3, which is dead (no session). */
const lastRanOnHv3: VmStatus = { state: 'stop', node: 'hv3', failureReason: null, stats: null, ranOn: 'hv3', updatedAtMs: 0 };

let store: ZkStore;
let layout: ZkLayout;

function status(cephClientIp: string): NodeStatus {
  return {
    daemonState: 'run', coordinatorState: 'client', pvcdVersion: '0.1.0', pid: 4242, keepaliveSeq: 1, updatedAtMs: 0,
    host: { cores: 2, loadAvg: [0, 0, 0], memoryTotalMiB: 1, memoryUsedMiB: 0, memoryFreeMiB: 1, uptimeS: 1 },
    cephClientIp,
  };
}

async function guardWithHeldVolume(): Promise<{ ceph: SimCeph; guard: RbdGuard }> {
  const ceph = new SimCeph();
  await ceph.createPool('vms', TEST_POOL_SETTINGS);
  await ceph.createVolume('vms', 'web1_disk0', 1024 * 1024);
  ceph.holdLock('vms', 'web1_disk0', 'held-by-hand');
  return { ceph, guard: new RbdGuard({ ceph, store, layout, node: 'hv1', log, waitLimitMs: 0 }) };
}

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
  layout = new ZkLayout(uniqueClusterName('rbdguard'));
  await migrateSchema(store, layout);
  for (const [name, ip] of [['hv1', '10.0.0.1'], ['hv2', '127.0.0.1'], ['hv3', '10.0.0.3']] as const) {
    await store.create(layout.node(name), { name, role: 'hypervisor' });
    await store.create(layout.nodeStatus(name), status(ip));
  }
  // hv2 is live; hv3 (where the VM last ran) is not.
  await store.create(layout.nodeAlive('hv2'), { pid: 4242, sessionId: store.sessionId() }, 'ephemeral');
});

afterAll(async () => {
  await store?.close();
});

describe('rbd guard with published ceph client ips', () => {
  it('refuses a holder on a live node though the last node is dead, and blocklists nothing', async () => {
    const { ceph, guard } = await guardWithHeldVolume();
    const [lock] = await ceph.listLocks('vms', 'web1_disk0');
    await expect(guard.ensureAccess(spec, lastRanOnHv3)).rejects.toThrow(`rbd volume(s) of vm web1 are held on live node hv2: vms/web1_disk0 by client ${lock?.address}`);
    expect(await ceph.blocklistList()).toEqual([]);
    expect(await ceph.listLocks('vms', 'web1_disk0')).toHaveLength(1);
  });

  it('blocklists the holder, then removes its lock, once its node has a fence record', async () => {
    const { ceph, guard } = await guardWithHeldVolume();
    const [lock] = await ceph.listLocks('vms', 'web1_disk0');
    await store.create(layout.nodeFence('hv2'), { node: 'hv2', reason: 'manual', detail: 'test', by: null, startedAtMs: 0, steps: [], outcome: 'fenced' });
    expect(await guard.ensureAccess(spec, lastRanOnHv3)).toBe('open');
    expect((await ceph.blocklistList()).map((entry) => entry.address)).toEqual([lock?.address]);
    expect(await ceph.listLocks('vms', 'web1_disk0')).toEqual([]);
    await store.remove(layout.nodeFence('hv2'));
  });

  it('refuses a holder whose ip no node published, naming its address', async () => {
    const { ceph, guard } = await guardWithHeldVolume();
    const [lock] = await ceph.listLocks('vms', 'web1_disk0');
    await store.set(layout.nodeStatus('hv2'), status('10.0.0.2'));
    await expect(guard.ensureAccess(spec, lastRanOnHv3)).rejects.toThrow(`held by client ${lock?.address}, which is no node of the cluster (no node published 127.0.0.1)`);
    expect(await ceph.blocklistList()).toEqual([]);
  });
});
