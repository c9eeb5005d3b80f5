// FRR and nftables rendering: golden files (update them with UPDATE_GOLDEN=1 after a deliberate
// template change, and read the diff), idempotence (same input, same bytes, whatever the order
// the input came in), who peers with whom, the nft rule of each kind of ACL, and what a VM may
// always send to the node that is its gateway.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ManagedNetwork, NetworkAcl } from '../../common/zk/schema.ts';
import { aclRule, hostRules, renderFirewall, type FirewallNetwork } from '../../daemon/reconcile/firewall-rules.ts';
import { buildFrrConfig, type FrrInput, type FrrNode } from '../../daemon/reconcile/frr-config.ts';

function golden(file: string, actual: string): void {
  const url = new URL(`golden/${file}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(url, actual);
  expect(actual).toBe(readFileSync(url, 'utf8'));
}

const nodes: FrrNode[] = [
  { name: 'hv1', role: 'coordinator', vtepAddress: '10.0.0.1' },
  { name: 'hv2', role: 'coordinator', vtepAddress: '10.0.0.2' },
  { name: 'hv3', role: 'coordinator', vtepAddress: '10.0.0.3' },
  { name: 'hv4', role: 'hypervisor', vtepAddress: '10.0.0.4' },
  { name: 'hv5', role: 'hypervisor', vtepAddress: '10.0.0.5' },
];

function managed(name: string, vni: number, v4: string | null, v6: string | null, firewall: ManagedNetwork['firewall'] = { defaultInbound: 'accept', defaultOutbound: 'accept' }): ManagedNetwork {
  const gw4 = v4 === null ? null : v4.replace(/0\/\d+$/, '1');
  return {
    name, type: 'managed', vni, description: '', domain: `${name}.pvc.local`, mtu: null,
    ipv4: v4 === null || gw4 === null ? null : { subnet: v4, gateway: gw4, dhcp: { enabled: false, start: null, end: null } },
    ipv6: v6 === null ? null : { subnet: v6, gateway: v6.replace(/::\/\d+$/, '::1'), dhcp: { enabled: false } },
    nameServers: [], firewall,
  };
}

const networks = [managed('prod', 100, '10.100.0.0/24', 'fd00:100::/64'), managed('dev', 200, '10.200.0.0/23', null)];
const input = (self: FrrNode, extra: Partial<FrrInput> = {}): FrrInput => ({
  self, nodes, cluster: { asn: 65500, upstreamPeers: [] }, networks, logDir: '/var/lib/pvc/frr', ...extra,
});
const upstream = { asn: 65500, upstreamPeers: [{ address: 'fd00::fe', asn: 64512 }, { address: '192.0.2.1', asn: 64512 }] };

describe('frr config', () => {
  it('renders a coordinator: iBGP with the other coordinators, reflector clients for hypervisors (golden)', () => {
    const config = buildFrrConfig(input(nodes[0] as FrrNode));
    golden('frr-bgpd-coordinator.conf', config.bgpd);
    golden('frr-zebra.conf', config.zebra);
    expect(config).toMatchObject({ asn: 65500, routerId: '10.0.0.1', neighbors: ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'], prefixLists: [] });
  });

  it('renders a hypervisor: a client of every coordinator, no upstream peers (golden)', () => {
    const config = buildFrrConfig(input(nodes[3] as FrrNode, { cluster: upstream }));
    golden('frr-bgpd-hypervisor.conf', config.bgpd);
    expect(config.neighbors).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(config.bgpd).not.toContain('route-reflector-client');
  });

  it('renders a coordinator with upstream peers announcing the managed subnets (golden)', () => {
    const config = buildFrrConfig(input(nodes[1] as FrrNode, { cluster: upstream }));
    golden('frr-bgpd-upstream.conf', config.bgpd);
    expect(config.neighbors).toEqual(['10.0.0.1', '10.0.0.3', '10.0.0.4', '10.0.0.5', '192.0.2.1', 'fd00::fe']);
    expect(config.prefixLists).toEqual([{ family: 4, name: 'pvc-networks-v4' }, { family: 6, name: 'pvc-networks-v6' }]);
  });

  it('gives the same bytes for the same cluster, whatever order its parts were listed in', () => {
    const a = buildFrrConfig(input(nodes[1] as FrrNode, { cluster: upstream }));
    const b = buildFrrConfig({
      ...input(nodes[1] as FrrNode, { cluster: { ...upstream, upstreamPeers: [...upstream.upstreamPeers].reverse() } }),
      nodes: [...nodes].reverse(),
      networks: [...networks].reverse(),
    });
    expect(b).toEqual(a);
  });

  it('leaves out nodes that share its own address, and a single coordinator peers with its clients only', () => {
    const lonely = buildFrrConfig(input(nodes[0] as FrrNode, { nodes: [nodes[0] as FrrNode, { ...(nodes[0] as FrrNode), name: 'clone' }, nodes[4] as FrrNode] }));
    expect(lonely.neighbors).toEqual(['10.0.0.5']);
  });
});

const acl = (over: Partial<NetworkAcl>): NetworkAcl => ({ direction: 'in', order: 1, action: 'accept', source: null, destination: null, protocol: 'any', ports: null, description: '', ...over });

describe('firewall rules', () => {
  const fwNetworks: FirewallNetwork[] = [
    {
      spec: managed('prod', 100, '10.100.0.0/24', 'fd00:100::/64', { defaultInbound: 'drop', defaultOutbound: 'accept' }),
      acls: [
        { name: 'web', acl: acl({ order: 20, protocol: 'tcp', ports: [{ from: 443, to: 443 }, { from: 80, to: 80 }] }) },
        { name: 'ssh', acl: acl({ order: 10, source: '10.200.0.0/23', protocol: 'tcp', ports: [{ from: 22, to: 22 }] }) },
        { name: 'no-dns', acl: acl({ direction: 'out', action: 'reject', destination: '192.0.2.53/32', protocol: 'udp', ports: [{ from: 53, to: 53 }] }) },
      ],
    },
    { spec: managed('dev', 200, '10.200.0.0/23', null, { defaultInbound: 'accept', defaultOutbound: 'drop' }), acls: [] },
  ];

  it('renders per-network chains in ACL order with each default policy (golden)', () => {
    golden('nft-pvc.nft', renderFirewall(fwNetworks));
  });

  it('is idempotent and independent of input order', () => {
    const reordered = [...fwNetworks].reverse().map((n) => ({ ...n, acls: [...n.acls].reverse() }));
    expect(renderFirewall(reordered)).toBe(renderFirewall(fwNetworks));
  });

  it('renders an empty table when there are no managed networks: both hooks, accepting all', () => {
    expect(renderFirewall([])).toContain('chain forward {');
    expect(renderFirewall([])).toContain('chain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}');
    expect(renderFirewall([])).not.toContain('jump');
  });

  it('sends traffic from the vms to this node through pvc\'s services on the gateway, then the out rules, per family', () => {
    const v6only = managed('v6', 300, null, 'fd00:300::/64', { defaultInbound: 'accept', defaultOutbound: 'drop' });
    expect(hostRules(v6only, 'vmbr300-out')).toEqual([
      'ct state established,related accept comment "replies, and connections already allowed"',
      'icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } counter accept comment "pvc ipv6 neighbour discovery"',
      'udp dport 547 counter accept comment "pvc dhcpv6"',
      'ip6 daddr fd00:300::1 meta l4proto { tcp, udp } th dport 53 counter accept comment "pvc dns at the gateway"',
      'ip6 daddr fd00:300::1 icmpv6 type echo-request counter accept comment "pvc ping of the gateway"',
      'jump vmbr300-out comment "the network\'s out acls and default"',
    ]);
    expect(renderFirewall([{ spec: v6only, acls: [] }])).toContain('iifname "vmbr300" jump vmbr300-host comment "network v6: from its vms to this node"');
  });

  it.each([
    [acl({}), 'counter return comment "acl a"'],
    [acl({ action: 'drop', protocol: 'icmp' }), 'meta l4proto { icmp, ipv6-icmp } counter drop comment "acl a"'],
    [acl({ source: '10.1.0.0/16', protocol: 'icmp' }), 'ip saddr 10.1.0.0/16 meta l4proto icmp counter return comment "acl a"'],
    [acl({ destination: 'fd00:1::/64', protocol: 'icmp', action: 'reject' }), 'ip6 daddr fd00:1::/64 meta l4proto ipv6-icmp counter reject comment "acl a"'],
    [acl({ protocol: 'udp' }), 'meta l4proto udp counter return comment "acl a"'],
    [acl({ protocol: 'tcp', ports: [{ from: 8000, to: 8100 }, { from: 8050, to: 8200 }, { from: 8201, to: 8201 }, { from: 22, to: 22 }] }), 'tcp dport { 22, 8000-8201 } counter return comment "acl a"'],
  ])('acl %j -> %s', (rule, expected) => {
    expect(aclRule('a', rule)).toBe(expected);
  });
});
