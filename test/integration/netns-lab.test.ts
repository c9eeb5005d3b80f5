// The netns lab itself (test/helpers/netns-lab.ts), with real FRR: three nodes (two route
// reflectors, one client) get a VXLAN network from the planner, EVPN spreads the VMs' MACs, the
// VMs ping each other across VXLAN, and destroy() leaves no namespace and no daemon behind.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ManagedNetwork } from '../../common/zk/schema.ts';
import { netnsExists } from '../helpers/netns.ts';
import { NetnsLab, type LabVm } from '../helpers/netns-lab.ts';
import { waitFor } from '../helpers/wait.ts';

const net: ManagedNetwork = {
  name: 'lab', type: 'managed', vni: 100, description: '', domain: 'lab.pvc.local', mtu: null,
  ipv4: { subnet: '10.100.0.0/24', gateway: '10.100.0.1', dhcp: { enabled: false, start: null, end: null } },
  ipv6: null, nameServers: [], firewall: { defaultInbound: 'accept', defaultOutbound: 'accept' },
};

describe('netns lab', () => {
  let lab: NetnsLab;
  const vms: LabVm[] = [];

  beforeAll(async () => {
    lab = await NetnsLab.create({
      tag: 'lab',
      dir: path.join(inject('testRunDir'), `netns-lab-${process.pid}`),
      nodes: [{ name: 'n1', role: 'coordinator' }, { name: 'n2', role: 'coordinator' }, { name: 'n3', role: 'hypervisor' }],
    });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('builds VXLAN networks on every node, and EVPN lets VMs on three nodes ping each other', async () => {
    expect(await lab.applyNetworks([net])).toEqual([]);
    expect(await lab.startFrr({ asn: 65500, upstreamPeers: [] })).toEqual(['started', 'started', 'started']);
    for (const [i, node] of lab.nodes.entries()) {
      const vm = await lab.addVm(node, `vm${i + 1}`, `52:54:00:00:0${i + 1}:01`);
      await lab.attachVm(vm, 'vmbr100');
      await lab.configureVm(vm, `10.100.0.${11 + i}/24`);
      vms.push(vm);
    }
    // Remote MACs arrive in each node's VXLAN FDB through EVPN type-2 routes.
    for (const node of lab.nodes) {
      await waitFor(`remote macs on ${node.name}`, async () => {
        const remote = (await node.links.listFdb('vxlan100')).filter((e) => e.dst !== null && e.mac.startsWith('52:54:00'));
        return remote.length === 2;
      });
    }
    for (const from of vms) {
      for (const to of vms) if (from !== to) expect(await waitFor(`${from.name} -> ${to.name}`, () => lab.ping(from, `10.100.0.${11 + vms.indexOf(to)}`))).toBe(true);
    }
  });

  it('destroy stops the daemons and removes every namespace', async () => {
    const namespaces = [...lab.nodes.map((n) => n.netns), ...vms.map((v) => v.netns)];
    await lab.destroy();
    for (const node of lab.nodes) expect(await node.frr.running()).toEqual({ zebra: false, bgpd: false });
    expect(namespaces.filter(netnsExists)).toEqual([]);
  });
});
