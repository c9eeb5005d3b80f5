// Networks end to end on real parts: three real pvcd processes (two coordinators, one
// hypervisor), each managing one "node" namespace of a netns lab (its interfaces, its own zebra +
// bgpd, its firewall), on the shared ZooKeeper ensemble. A managed network written through the
// client library becomes vxlan100 + vmbr100 on every node; EVPN spreads the VMs' MACs; the VMs
// ping each other across VXLAN; a pvcd restart adopts what runs (same bridge, same bgpd); removing
// the network removes the interfaces. Times from the spec write are printed (not asserted).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addNetwork, removeNetwork } from '../../common/client/network-write.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { daemonPid } from '../../daemon/drivers/frr/processes.ts';
import { NetnsLab, type LabNode, type LabVm } from '../helpers/netns-lab.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, uniqueClusterName } from '../helpers/zk.ts';

const NODES = [
  { name: 'n1', role: 'coordinator' as const },
  { name: 'n2', role: 'coordinator' as const },
  { name: 'n3', role: 'hypervisor' as const },
];
const vmAddress = (i: number) => `10.100.0.${11 + i}`;

describe('networks on real pvcd, FRR and VXLAN in namespaces', () => {
  let lab: NetnsLab;
  let store: ZkStore;
  let fleet: PvcdFleet;
  let layout: ZkLayout;
  const vms: LabVm[] = [];
  const link = async (node: LabNode, name: string) => (await node.links.listLinks()).find((l) => l.name === name);

  beforeAll(async () => {
    const dir = path.join(inject('testRunDir'), `network-evpn-${process.pid}`);
    lab = await NetnsLab.create({ tag: 'evpn', dir, nodes: NODES });
    store = await connectStore(inject('zkHosts'));
    fleet = new PvcdFleet(inject('zkHosts'), uniqueClusterName('evpn'), store, { baseDir: inject('testRunDir') });
    layout = new ZkLayout(fleet.cluster);
    for (const node of lab.nodes) {
      const network = { driver: 'real', netns: node.netns, underlayDevice: node.underlayDevice, vtepAddress: node.underlayAddress, frr: { stateDir: node.frrDir } };
      fleet.start(node.name, node.role, { sections: { network } });
    }
    for (const [i, node] of lab.nodes.entries()) vms.push(await lab.addVm(node, `vm${i + 1}`, `52:54:00:00:0${i + 1}:01`));
  });
  afterAll(async () => {
    await fleet?.stopAll();
    await lab?.destroy();
    await closeTrackedStores();
  });

  it('every node publishes its VTEP and its FRR peers over EVPN with the route reflectors', async () => {
    for (const node of lab.nodes) {
      await waitFor(`${node.name} status with its vtep`, async () => (await store.get(layout.nodeStatus(node.name)))?.value.network?.vtepAddress === node.underlayAddress);
    }
    const hypervisor = lab.node('n3');
    await waitFor('n3 established with both coordinators', async () => {
      const peers = await hypervisor.frr.evpnPeers().catch(() => []);
      return peers.filter((p) => p.state === 'Established').length === 2;
    });
    const reflector = lab.node('n1');
    await waitFor('n1 established with n2 and n3', async () => (await reflector.frr.evpnPeers().catch(() => [])).filter((p) => p.state === 'Established').length === 2);
  });

  it('a network written to ZooKeeper becomes VXLAN + bridge everywhere; EVPN learns the VMs; they ping across VXLAN', async () => {
    const t0 = performance.now();
    await addNetwork({ store, layout }, { name: 'prod', type: 'managed', vni: 100, ipv4: { subnet: '10.100.0.0/24', dhcp: { enabled: false } } });
    const bridgeMs: number[] = [];
    const announcements: Array<Promise<boolean>> = [];
    // As libvirt would: plug each VM into the bridge once its node has it.
    await Promise.all(
      vms.map(async (vm, i) => {
        await waitFor(`vmbr100 up on ${vm.node.name}`, async () => (await link(vm.node, 'vmbr100'))?.up === true);
        bridgeMs[i] = performance.now() - t0;
        await lab.attachVm(vm, 'vmbr100');
        await lab.configureVm(vm, `${vmAddress(i)}/24`);
        // A booting VM talks at once (DHCP); this one sends an ARP request (its gateway is not there).
        announcements.push(lab.ping(vm, '10.100.0.1'));
      }),
    );
    for (const node of lab.nodes) {
      expect(await link(node, 'vxlan100')).toMatchObject({ master: 'vmbr100', up: true, mtu: 1450, vxlan: { vni: 100, local: node.underlayAddress, dstPort: 4789, learning: false }, bridgePort: { learning: false, neighSuppress: true } });
    }
    const macMs: number[] = [];
    await Promise.all(
      lab.nodes.map(async (node, i) => {
        const others = vms.filter((vm) => vm.node !== node).map((vm) => vm.mac);
        await waitFor(`remote macs on ${node.name}`, async () => {
          const remote = (await node.links.listFdb('vxlan100')).filter((e) => e.dst !== null).map((e) => e.mac);
          return others.every((mac) => remote.includes(mac));
        });
        macMs[i] = performance.now() - t0;
      }),
    );
    const pingMs: number[] = [];
    for (const [i, from] of vms.entries()) {
      for (const [j] of vms.entries()) if (i !== j) expect(await waitFor(`${from.name} -> ${vmAddress(j)}`, () => lab.ping(from, vmAddress(j)))).toBe(true);
      pingMs[i] = performance.now() - t0;
    }
    await Promise.all(announcements);
    const round = (list: number[]) => list.map((ms) => Math.round(ms));
    console.log(JSON.stringify({ measure: 'network-evpn', fromSpecWriteMs: { bridgeUp: round(bridgeMs), remoteMacsLearned: round(macMs), allPingsAnswered: round(pingMs) } }));
  });

  it('a pvcd restart adopts what runs: same bridge, same bgpd, VMs still reach each other', async () => {
    const node = lab.node('n3');
    const bridgeMac = (await link(node, 'vmbr100'))?.macAddress;
    const bgpd = daemonPid(node.frrDir, 'bgpd');
    expect(bgpd).not.toBeNull();
    fleet.signal('n3', 'SIGTERM');
    await fleet.waitExit('n3');
    expect(await lab.ping(vms[2] as LabVm, vmAddress(0))).toBe(true);
    fleet.start('n3');
    await waitFor('n3 running again', async () => {
      const status = await store.get(layout.nodeStatus('n3'));
      return status?.value.daemonState === 'run' && status.value.pid === fleet.process('n3').pid;
    });
    expect((await link(node, 'vmbr100'))?.macAddress).toBe(bridgeMac);
    expect(daemonPid(node.frrDir, 'bgpd')).toBe(bgpd);
    expect(await lab.ping(vms[2] as LabVm, vmAddress(1))).toBe(true);
  });

  it('removing the network removes its interfaces on every node; the VMs lose each other', async () => {
    await removeNetwork({ store, layout }, 'prod');
    for (const node of lab.nodes) {
      await waitFor(`vxlan100 and vmbr100 gone on ${node.name}`, async () => {
        const names = (await node.links.listLinks()).map((l) => l.name);
        return !names.includes('vxlan100') && !names.includes('vmbr100');
      });
      // The VM's tap stays (libvirt owns it), without a bridge.
      expect((await link(node, vms[lab.nodes.indexOf(node)]?.tap as string))?.master).toBeNull();
    }
    expect(await lab.ping(vms[0] as LabVm, vmAddress(1))).toBe(false);
  });
});
