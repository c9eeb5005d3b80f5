// The network controller on the shared ZooKeeper with simulated drivers: what it reads (networks,
// ACLs, the cluster network settings, the other nodes' VTEPs) and what it makes of it (bridges,
// problems, FRR neighbors, the firewall), reacting to watches, and recovering from failed calls.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addAcl } from '../../common/client/network-acl.ts';
import { addNetwork, modifyNetwork, removeNetwork } from '../../common/client/network-write.ts';
import { setClusterNetwork } from '../../common/client/cluster-network.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout, type NodeRole, type NodeStatus, type VmSpec } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { SimFirewall } from '../../daemon/drivers/firewall/sim.ts';
import { SimFrr, SimFrrWorld } from '../../daemon/drivers/frr/sim.ts';
import { SimLinks } from '../../daemon/drivers/links/sim.ts';
import { FIREWALL_TABLE } from '../../daemon/reconcile/firewall-rules.ts';
import { NetworkController } from '../../daemon/runtime/network-controller.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, uniqueClusterName } from '../helpers/zk.ts';

function peerStatus(vtepAddress: string): NodeStatus {
  return {
    daemonState: 'run', coordinatorState: 'client', pvcdVersion: '0.1.0', pid: 4242, keepaliveSeq: 1, updatedAtMs: 0,
    host: { cores: 2, loadAvg: [0, 0, 0], memoryTotalMiB: 1, memoryUsedMiB: 0, memoryFreeMiB: 1, uptimeS: 1 },
    hypervisor: null, network: { vtepAddress },
  };
}

describe('network controller (simulated drivers, real ZooKeeper)', () => {
  let store: ZkStore;
  let layout: ZkLayout;
  let links: SimLinks;
  let frr: SimFrr;
  let firewall: SimFirewall;
  let controller: NetworkController;
  const target = () => ({ store, layout });
  /** As a pvcd registers: the node first, its status (with its VTEP) once the controller has looked. */
  const addPeer = async (name: string, role: NodeRole, vtep: string) => {
    const passes = controller.passCount;
    await store.create(layout.node(name), { name, role });
    await waitFor(`a pass after ${name} registered`, () => controller.passCount > passes);
    await store.create(layout.nodeStatus(name), peerStatus(vtep));
  };

  beforeAll(async () => {
    store = await connectStore(inject('zkHosts'));
    layout = new ZkLayout(uniqueClusterName('netctl'));
    await migrateSchema(store, layout);
    await store.create(layout.node('c1'), { name: 'c1', role: 'coordinator' });
    links = new SimLinks({ devices: ['eth0', 'eth1'] });
    frr = new SimFrr(new SimFrrWorld(), links);
    firewall = new SimFirewall();
    controller = new NetworkController({
      store, layout, node: 'c1', role: 'coordinator',
      facts: { vtepAddress: '10.0.0.1', underlayDevice: 'eth0', bridgedDevice: null },
      links, frr: { driver: frr, logDir: '/sim/frr' }, firewall,
      resyncIntervalMs: 60_000, log: pino({ level: 'silent' }),
    });
    await controller.start();
  });
  afterAll(async () => {
    await controller?.stop();
    await closeTrackedStores();
  });

  it('starts FRR with no peers and an empty firewall before any network exists', async () => {
    expect(frr.activeConfig?.neighbors).toEqual([]);
    expect((await firewall.readTable('inet', FIREWALL_TABLE))?.chains.map((c) => c.name)).toEqual(['forward', 'input']);
    expect(controller.bridges).toEqual({});
  });

  it('follows networks as they are added and changed, and reports those it cannot serve', async () => {
    await addNetwork(target(), { name: 'prod', type: 'managed', vni: 100, ipv4: { subnet: '10.100.0.0/24', dhcp: { enabled: false } } });
    await addNetwork(target(), { name: 'lan', type: 'bridged', vlan: 20, device: null });
    await waitFor('prod bridged', () => controller.bridges.prod === 'vmbr100');
    // `lan` names no device and this node has no default: no bridge, nothing made for it.
    expect(controller.bridges).toEqual({ prod: 'vmbr100' });
    expect((await links.listLinks()).map((l) => l.name).sort()).toEqual(['eth0', 'eth1', 'vmbr100', 'vxlan100']);
    await modifyNetwork(target(), 'prod', { mtu: 1400 });
    await waitFor('mtu 1400', async () => (await links.listLinks()).filter((l) => l.mtu === 1400).length === 2);
  });

  it('peers with every node that publishes a VTEP, and with the upstream peers as a coordinator', async () => {
    await addPeer('c2', 'coordinator', '10.0.0.2');
    await addPeer('h1', 'hypervisor', '10.0.0.3');
    await waitFor('two peers', () => frr.activeConfig?.neighbors.length === 2);
    expect(frr.activeConfig?.bgpd).toContain('neighbor 10.0.0.3 route-reflector-client');
    await setClusterNetwork(target(), { asn: 65001, addPeers: [{ address: '192.0.2.1', asn: 64512 }] });
    await waitFor('upstream peer', () => frr.activeConfig?.neighbors.includes('192.0.2.1') === true);
    expect(frr.activeConfig?.asn).toBe(65001);
    expect(frr.activeConfig?.bgpd).toContain('ip prefix-list pvc-networks-v4 seq 10 permit 10.100.0.0/24');
  });

  it('renders ACLs into the firewall as they are written', async () => {
    await addAcl(target(), 'prod', { name: 'ssh', direction: 'in', action: 'accept', protocol: 'tcp', ports: '22' });
    await waitFor('acl ssh in the firewall', async () => (await firewall.readTable('inet', FIREWALL_TABLE))?.rules.some((r) => r.comment === 'acl ssh'));
  });

  it('retries after failed driver calls until the node matches; VMs on the network wait for it meanwhile', async () => {
    links.faults.failNext(1_000);
    firewall.faults.failNext(1);
    const passes = controller.passCount;
    await addNetwork(target(), { name: 'dev', type: 'managed', vni: 200, ipv4: { subnet: '10.200.0.0/24', dhcp: { enabled: false } } });
    await waitFor('a failed pass', () => controller.passCount > passes + 1);
    const withNic = (network: string): VmSpec => ({ ...TEST_GUEST_SPEC, nics: [{ network, mac: '52:54:00:00:00:01' }] });
    expect(await controller.nicsReady(withNic('dev'))).toBe('wait');
    expect(await controller.nicsReady(withNic('prod'))).toBe('ready');
    // No such network, or one this node cannot serve: the domain render fails the VM, naming it.
    expect(await controller.nicsReady(withNic('nowhere'))).toBe('ready');
    expect(await controller.nicsReady(withNic('lan'))).toBe('ready');
    links.faults.clear();
    await waitFor('dev bridged', () => controller.bridges.dev === 'vmbr200');
    expect(await controller.nicsReady(withNic('dev'))).toBe('ready');
    await waitFor('dev in the firewall', async () => (await firewall.readTable('inet', FIREWALL_TABLE))?.chains.some((c) => c.name === 'vmbr200-in'));
  });

  it('removes what a removed network had', async () => {
    await removeNetwork(target(), 'dev');
    await waitFor('dev gone', async () => !(await links.listLinks()).some((l) => l.name === 'vmbr200' || l.name === 'vxlan200'));
    expect(controller.bridges).toEqual({ prod: 'vmbr100' });
    await waitFor('dev out of the firewall', async () => !(await firewall.readTable('inet', FIREWALL_TABLE))?.chains.some((c) => c.name === 'vmbr200-in'));
  });
});
