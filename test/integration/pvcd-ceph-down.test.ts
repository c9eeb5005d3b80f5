// Ceph that does not answer when pvcd starts must not keep pvcd from running: the node's
// keepalive, election and VMs without RBD disks need no Ceph. A VM with an RBD disk waits (it is
// retried, not failed) until Ceph answers. One pvcd with the sim hypervisor and a ceph.conf whose
// monitor is a closed port.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VmSpec } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { startSimWorldServer, type SimWorldServer } from '../helpers/sim-world-server.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';

const NODE = 'cd1';
let store: ZkStore;
let sim: SimWorldServer;
let fleet: PvcdFleet;

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
  const dir = path.join(inject('testRunDir'), `cephdown-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const [closedPort] = await findFreePorts(1);
  const conf = path.join(dir, 'ceph.conf');
  writeFileSync(conf, `[global]\nfsid = 00000000-0000-4000-8000-000000000000\nmon host = 127.0.0.1:${closedPort}\nauth client required = cephx\n`);
  sim = await startSimWorldServer([{ name: NODE, cpus: 4, memoryMiB: 8192 }]);
  fleet = new PvcdFleet(inject('zkHosts'), uniqueClusterName('cephdown'), store, { baseDir: inject('testRunDir') });
  const consoleLogDir = path.join(dir, 'console');
  mkdirSync(consoleLogDir, { recursive: true });
  fleet.start(NODE, 'coordinator', {
    runnables: ['placement'],
    hypervisor: { driver: 'sim', uri: sim.url, peerUri: `sim://${NODE}`, consoleLogDir, shutdownTimeoutMs: 3_000 },
    sections: { ceph: { driver: 'real', conf, id: 'admin', keyring: path.join(dir, 'missing.keyring') } },
  });
}, 60_000);

afterAll(async () => {
  await fleet?.stopAll();
  await sim?.close();
  await store?.close();
});

describe('pvcd while Ceph does not answer', () => {
  it('runs, starts a VM without RBD disks, and keeps a VM with an RBD disk waiting, not failed', async () => {
    await waitFor('pvcd in run', async () => (await store.get(fleet.layout.nodeStatus(NODE)))?.value.daemonState === 'run', 60_000);
    await store.create(fleet.layout.vm('plain'), { ...TEST_GUEST_SPEC, name: 'plain', uuid: '7e570000-0000-4000-8000-0000000000c1', node: null });
    const rbdVm: VmSpec = { ...TEST_GUEST_SPEC, name: 'onrbd', uuid: '7e570000-0000-4000-8000-0000000000c2', node: null, disks: [{ target: 'vda', source: { type: 'rbd', pool: 'vms', image: 'd0' } }] };
    await store.create(fleet.layout.vm('onrbd'), rbdVm);
    await waitFor('the plain vm started', async () => (await store.get(fleet.layout.vmStatus('plain')))?.value.state === 'start', 60_000);
    // Several retry rounds later the RBD VM has neither started nor failed.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((await store.get(fleet.layout.vmStatus('onrbd')))?.value.state ?? null).toBeNull();
    expect((await store.get(fleet.layout.nodeStatus(NODE)))?.value.daemonState).toBe('run');
  }, 120_000);
});
