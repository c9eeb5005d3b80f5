// The link planner: what it creates, changes and deletes, and that applying its plan (to the
// simulated links) reaches a state where it plans nothing more.
import { describe, expect, it } from 'vitest';
import { applyLinkActions } from '../../daemon/apply/network-links.ts';
import { SimLinks } from '../../daemon/drivers/links/sim.ts';
import { planNetworkLinks, type NodeNetworkFacts } from '../../daemon/reconcile/network-plan.ts';
import type { BridgedNetwork, ManagedNetwork, NetworkSpec } from '../../common/zk/schema.ts';

const facts: NodeNetworkFacts = { vtepAddress: '192.168.50.1', underlayDevice: 'eth0', bridgedDevice: 'eth1' };

function managed(name: string, vni: number, mtu: number | null = null): ManagedNetwork {
  return {
    name, type: 'managed', vni, description: '', domain: `${name}.pvc.local`, mtu,
    ipv4: { subnet: '10.100.0.0/24', gateway: '10.100.0.1', dhcp: { enabled: false, start: null, end: null } },
    ipv6: null, nameServers: [], firewall: { defaultInbound: 'accept', defaultOutbound: 'accept' },
  };
}

function bridged(name: string, vlan: number, device: string | null = null, mtu: number | null = null): BridgedNetwork {
  return { name, type: 'bridged', vlan, device, mtu, description: '' };
}

async function converge(sim: SimLinks, specs: NetworkSpec[], nodeFacts = facts): Promise<void> {
  const plan = planNetworkLinks(specs, nodeFacts, await sim.listLinks());
  expect(await applyLinkActions(sim, plan.actions)).toEqual([]);
  expect(planNetworkLinks(specs, nodeFacts, await sim.listLinks()).actions).toEqual([]);
}

describe('planNetworkLinks', () => {
  it('creates a VXLAN and its bridge for a managed network, MTU from the underlay less 50', async () => {
    const sim = new SimLinks({ devices: ['eth0', 'eth1'] });
    const plan = planNetworkLinks([managed('prod', 100)], facts, await sim.listLinks());
    expect(plan.actions).toEqual([
      { type: 'create-bridge', name: 'vmbr100', mtu: 1450 },
      { type: 'create-vxlan', name: 'vxlan100', vni: 100, local: '192.168.50.1', dstPort: 4789, mtu: 1450 },
      { type: 'set-master', name: 'vxlan100', master: 'vmbr100' },
      { type: 'set-bridge-port', name: 'vxlan100', learning: false, neighSuppress: true },
      { type: 'set-up', name: 'vxlan100' },
      { type: 'set-up', name: 'vmbr100' },
    ]);
    expect(plan.bridges).toEqual({ prod: 'vmbr100' });
    expect(plan.problems).toEqual([]);
    await converge(sim, [managed('prod', 100)]);
    const links = await sim.listLinks();
    expect(links.find((l) => l.name === 'vxlan100')).toMatchObject({ master: 'vmbr100', up: true, bridgePort: { learning: false, neighSuppress: true } });
  });

  it('takes 70 bytes of overhead over an IPv6 underlay, and the spec MTU when given', async () => {
    const sim = new SimLinks({ devices: ['eth0'] });
    const v6 = planNetworkLinks([managed('a', 7)], { ...facts, vtepAddress: 'fd00::1' }, await sim.listLinks());
    expect(v6.actions[0]).toEqual({ type: 'create-bridge', name: 'vmbr7', mtu: 1430 });
    const fixed = planNetworkLinks([managed('a', 7, 1400)], facts, await sim.listLinks());
    expect(fixed.actions[0]).toEqual({ type: 'create-bridge', name: 'vmbr7', mtu: 1400 });
  });

  it('changes the MTU in place, port before bridge', async () => {
    const sim = new SimLinks({ devices: ['eth0'] });
    await converge(sim, [managed('prod', 100)]);
    expect(planNetworkLinks([managed('prod', 100, 1300)], facts, await sim.listLinks()).actions).toEqual([
      { type: 'set-mtu', name: 'vxlan100', mtu: 1300 },
      { type: 'set-mtu', name: 'vmbr100', mtu: 1300 },
    ]);
    await converge(sim, [managed('prod', 100, 1300)]);
  });

  it('deletes only interfaces named like its own that no network wants, ports before bridges', async () => {
    const sim = new SimLinks({ devices: ['eth0', 'vmbrx', 'vxlan-a', 'vlan7x'] });
    await converge(sim, [managed('a', 100), managed('b', 200)]);
    const plan = planNetworkLinks([managed('a', 100)], facts, await sim.listLinks());
    expect(plan.actions).toEqual([
      { type: 'delete', name: 'vxlan200', reason: 'no network wants it' },
      { type: 'delete', name: 'vmbr200', reason: 'no network wants it' },
    ]);
    await converge(sim, [managed('a', 100)]);
    expect((await sim.listLinks()).map((l) => l.name).sort()).toEqual(['eth0', 'vlan7x', 'vmbr100', 'vmbrx', 'vxlan-a', 'vxlan100']);
  });

  it('re-creates a VXLAN whose VTEP changed, and a bridge-named link that is no bridge', async () => {
    const sim = new SimLinks({ devices: ['eth0'] });
    await converge(sim, [managed('prod', 100)]);
    const moved = { ...facts, vtepAddress: '192.168.50.9' };
    const plan = planNetworkLinks([managed('prod', 100)], moved, await sim.listLinks());
    expect(plan.actions.slice(0, 2)).toEqual([
      { type: 'delete', name: 'vxlan100', reason: 'its settings differ from the network (they cannot be changed in place)' },
      { type: 'create-vxlan', name: 'vxlan100', vni: 100, local: '192.168.50.9', dstPort: 4789, mtu: 1450 },
    ]);
    await converge(sim, [managed('prod', 100)], moved);

    const odd = new SimLinks({ devices: ['eth0'] });
    await odd.createVxlan({ name: 'vmbr300', vni: 300, local: '192.168.50.1', dstPort: 4789, mtu: 1450 });
    expect(planNetworkLinks([managed('c', 300)], facts, await odd.listLinks()).actions[0]).toEqual({ type: 'delete', name: 'vmbr300', reason: 'it is a vxlan, not a bridge' });
    await converge(odd, [managed('c', 300)]);
  });

  it('re-attaches and re-configures a port that lost its bridge or its options', async () => {
    const sim = new SimLinks({ devices: ['eth0'] });
    await converge(sim, [managed('prod', 100)]);
    await sim.setMaster('vxlan100', null);
    expect(planNetworkLinks([managed('prod', 100)], facts, await sim.listLinks()).actions).toEqual([
      { type: 'set-master', name: 'vxlan100', master: 'vmbr100' },
      { type: 'set-bridge-port', name: 'vxlan100', learning: false, neighSuppress: true },
    ]);
    await converge(sim, [managed('prod', 100)]);
  });

  it('creates a VLAN and bridge on the named device or the node default, with its MTU', async () => {
    const sim = new SimLinks({ devices: ['eth0', 'eth1', 'eth2'] });
    await sim.setMtu('eth2', 9000);
    const plan = planNetworkLinks([bridged('lan', 20), bridged('san', 30, 'eth2')], facts, await sim.listLinks());
    expect(plan.actions.filter((a) => a.type === 'create-vlan')).toEqual([
      { type: 'create-vlan', name: 'vlan20', parent: 'eth1', vlanId: 20, mtu: 1500 },
      { type: 'create-vlan', name: 'vlan30', parent: 'eth2', vlanId: 30, mtu: 9000 },
    ]);
    expect(plan.actions.some((a) => a.type === 'set-bridge-port')).toBe(false);
    expect(plan.bridges).toEqual({ lan: 'vmbr20', san: 'vmbr30' });
    await converge(sim, [bridged('lan', 20), bridged('san', 30, 'eth2')]);
  });

  it('reports networks the node cannot serve and leaves their interfaces alone', async () => {
    const sim = new SimLinks({ devices: ['eth0'] });
    await converge(sim, [bridged('lan', 20, 'eth0')]);
    const none: NodeNetworkFacts = { vtepAddress: null, underlayDevice: null, bridgedDevice: null };
    const plan = planNetworkLinks([managed('prod', 100), bridged('lan', 20, 'eth9'), bridged('dmz', 40)], none, await sim.listLinks());
    expect(plan.actions).toEqual([]);
    expect(plan.bridges).toEqual({});
    expect(plan.problems).toEqual([
      { network: 'dmz', reason: 'the network names no device and this node has no default (network.bridgedDevice in its pvcd config)' },
      { network: 'lan', reason: 'device eth9 does not exist on this node' },
      { network: 'prod', reason: 'this node has no vtep address (network.vtepAddress in its pvcd config)' },
    ]);
  });

  it('serves the first of two networks that claim one bridge name and reports the other', async () => {
    const sim = new SimLinks({ devices: ['eth0', 'eth1'] });
    const plan = planNetworkLinks([managed('b', 100), bridged('a', 100)], facts, await sim.listLinks());
    expect(plan.problems).toEqual([{ network: 'b', reason: 'bridge vmbr100 is already used by network a' }]);
    expect(plan.bridges).toEqual({ a: 'vmbr100' });
  });

  it('the executor counts a create that finds the link made and a delete that finds it gone as done', async () => {
    const sim = new SimLinks({ devices: ['eth0'] });
    await sim.createBridge('vmbr5', 1450);
    const failures = await applyLinkActions(sim, [
      { type: 'create-bridge', name: 'vmbr5', mtu: 1450 },
      { type: 'delete', name: 'vmbr6', reason: 'test' },
      { type: 'set-up', name: 'vmbr7' },
      { type: 'set-up', name: 'vmbr5' },
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.action).toEqual({ type: 'set-up', name: 'vmbr7' });
    expect((await sim.listLinks()).find((l) => l.name === 'vmbr5')?.up).toBe(true);
  });
});
