// VM NICs on network bridges, through a real pvcd with the simulated hypervisor and simulated
// network drivers: a VM whose NIC names a network gets `<source bridge='vmbr<vni>'/>` in the
// domain it defines; a NIC on a network the node does not have fails the VM, naming the network.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addNetwork } from '../../common/client/network-write.ts';
import type { VmSpec } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { startSimWorldServer, type SimWorldServer } from '../helpers/sim-world-server.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, uniqueClusterName } from '../helpers/zk.ts';
import { dumpVm } from '../../common/client/vm-dump.ts';

const vm = (name: string, uuidTail: string, network: string): VmSpec => ({
  ...TEST_GUEST_SPEC,
  name,
  uuid: `6d1c0a4e-0000-4000-8000-${uuidTail}`,
  nics: [{ network, mac: `52:54:00:aa:00:${uuidTail.slice(-2)}` }],
  node: 'h1',
  desiredState: 'start',
});

describe('VM NICs attach to the bridges of their networks', () => {
  let sim: SimWorldServer;
  let store: ZkStore;
  let fleet: PvcdFleet;

  beforeAll(async () => {
    sim = await startSimWorldServer([{ name: 'h1', cpus: 4, memoryMiB: 8_192 }]);
    store = await connectStore(inject('zkHosts'));
    fleet = new PvcdFleet(inject('zkHosts'), uniqueClusterName('vmnic'), store, { baseDir: inject('testRunDir') });
    const consoleLogDir = path.join(fleet.dir, 'console');
    mkdirSync(consoleLogDir, { recursive: true });
    fleet.start('h1', 'coordinator', {
      hypervisor: { driver: 'sim', uri: sim.url, peerUri: 'sim://h1', consoleLogDir, shutdownTimeoutMs: 1_000 },
      sections: { network: { driver: 'sim', underlayDevice: 'eth0', vtepAddress: '10.0.0.1' } },
    });
    await waitFor('h1 running with its vtep', async () => {
      const status = await store.get(fleet.layout.nodeStatus('h1'));
      return status?.value.daemonState === 'run' && status.value.network?.vtepAddress === '10.0.0.1';
    });
  });
  afterAll(async () => {
    await fleet?.stopAll();
    await sim?.close();
    await closeTrackedStores();
  });

  it('defines the domain with the network bridge as the NIC source', async () => {
    await addNetwork({ store, layout: fleet.layout }, { name: 'prod', type: 'managed', vni: 100, ipv4: { subnet: '10.100.0.0/24', dhcp: { enabled: false } } });
    await store.create(fleet.layout.vm('nic1'), vm('nic1', '000000000101', 'prod'));
    await waitFor('nic1 started', async () => (await store.get(fleet.layout.vmStatus('nic1')))?.value.state === 'start');
    const xml = await sim.node('h1').dumpXml('nic1');
    expect(xml).toContain("<source bridge='vmbr100'/>");
    expect(xml).toContain("<mac address='52:54:00:aa:00:01'/>");
    // `pvc vm dump` renders the same NIC from the network specs.
    expect(await dumpVm({ store, layout: fleet.layout }, 'nic1')).toContain("<source bridge='vmbr100'/>");
  });

  it('fails a VM whose NIC names a network this node does not have, naming it', async () => {
    await store.create(fleet.layout.vm('nic2'), vm('nic2', '000000000102', 'nowhere'));
    const status = await waitFor('nic2 failed', async () => {
      const s = await store.get(fleet.layout.vmStatus('nic2'));
      return s?.value.state === 'fail' ? s.value : null;
    });
    expect(status.failureReason).toContain('network "nowhere"');
    expect(sim.world.whereIs('nic2')).toEqual([]);
  });
});
