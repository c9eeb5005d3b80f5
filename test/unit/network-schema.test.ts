// The network codecs (common/zk/network-schema.ts) and their ZkLayout paths: every rule one
// document holds to, with messages that name the wrong value.
import { describe, expect, it } from 'vitest';
import {
  ClusterNetworkDoc,
  DhcpLeaseDoc,
  DhcpReservationDoc,
  NetworkAclDoc,
  NetworkSpecDoc,
  SCHEMA_DESCRIPTION,
  ZkLayout,
  bridgeNameOf,
  defaultClusterNetwork,
  memberInterfaceOf,
  sortAcls,
  type ManagedNetwork,
  type NetworkAcl,
  type NetworkSpec,
} from '../../common/zk/schema.ts';

const managed: ManagedNetwork = {
  name: 'prod',
  type: 'managed',
  vni: 100,
  description: 'production',
  domain: 'prod.pvc.local',
  mtu: null,
  ipv4: { subnet: '10.100.0.0/24', gateway: '10.100.0.1', dhcp: { enabled: true, start: '10.100.0.100', end: '10.100.0.199' } },
  ipv6: { subnet: 'fd00:100::/64', gateway: 'fd00:100::1', dhcp: { enabled: true } },
  nameServers: [],
  firewall: { defaultInbound: 'accept', defaultOutbound: 'accept' },
};

/** The messages of a failed parse, `path: message`. */
function problems(codec: { safeParse(v: unknown): { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } } }, value: unknown): string[] {
  const result = codec.safeParse(value);
  return result.success ? [] : (result.error?.issues ?? []).map((i) => `${i.path.map(String).join('.')}: ${i.message}`);
}

function withIpv4(patch: Partial<NonNullable<ManagedNetwork['ipv4']>>): unknown {
  return { ...managed, ipv4: { ...managed.ipv4, ...patch } };
}

describe('NetworkSpec codec', () => {
  it('accepts a managed and a bridged network', () => {
    expect(problems(NetworkSpecDoc, managed)).toEqual([]);
    expect(problems(NetworkSpecDoc, { name: 'uplink', type: 'bridged', vlan: 200, device: 'eno2', mtu: 9000, description: '' })).toEqual([]);
    expect(problems(NetworkSpecDoc, { name: 'uplink', type: 'bridged', vlan: 200, device: null, mtu: null, description: '' })).toEqual([]);
  });

  it('refuses a gateway outside its subnet or on its network or broadcast address, naming it', () => {
    expect(problems(NetworkSpecDoc, withIpv4({ gateway: '10.100.1.1' }))).toEqual(['ipv4.gateway: gateway 10.100.1.1 is outside subnet 10.100.0.0/24']);
    expect(problems(NetworkSpecDoc, withIpv4({ gateway: '10.100.0.0' }))).toEqual(['ipv4.gateway: gateway 10.100.0.0 is the network address of subnet 10.100.0.0/24']);
    expect(problems(NetworkSpecDoc, withIpv4({ gateway: '10.100.0.255' }))).toEqual(['ipv4.gateway: gateway 10.100.0.255 is the broadcast address of subnet 10.100.0.0/24']);
    expect(problems(NetworkSpecDoc, withIpv4({ gateway: '10.100.0.256' }))[0]).toMatch(/^ipv4.gateway: must be an ipv4 address/);
  });

  it('refuses subnets that are not networks, or too big or small', () => {
    expect(problems(NetworkSpecDoc, withIpv4({ subnet: '10.100.0.5/24' }))).toEqual(['ipv4.subnet: 10.100.0.5/24 has host bits set; the subnet is 10.100.0.0/24']);
    expect(problems(NetworkSpecDoc, withIpv4({ subnet: '10.100.0.0/31' }))).toEqual(['ipv4.subnet: subnet 10.100.0.0/31: the prefix length must be 8-30']);
    expect(problems(NetworkSpecDoc, withIpv4({ subnet: '10.0.0.0/7' }))).toEqual(['ipv4.subnet: subnet 10.0.0.0/7: the prefix length must be 8-30']);
    expect(problems(NetworkSpecDoc, withIpv4({ subnet: 'ten' }))).toEqual(['ipv4.subnet: "ten" is not an ipv4 subnet such as 10.0.0.0/24']);
  });

  it('refuses a dhcp range outside the subnet, reversed, holding the gateway, or half given', () => {
    const range = (start: string | null, end: string | null, enabled = true) => withIpv4({ dhcp: { enabled, start, end } });
    expect(problems(NetworkSpecDoc, range('10.100.1.10', '10.100.0.20'))).toEqual(['ipv4.dhcp: dhcp range start 10.100.1.10 is outside the usable addresses of subnet 10.100.0.0/24']);
    expect(problems(NetworkSpecDoc, range('10.100.0.10', '10.100.0.255'))).toEqual(['ipv4.dhcp: dhcp range end 10.100.0.255 is outside the usable addresses of subnet 10.100.0.0/24']);
    expect(problems(NetworkSpecDoc, range('10.100.0.20', '10.100.0.10'))).toEqual(['ipv4.dhcp: dhcp range start 10.100.0.20 is above its end 10.100.0.10']);
    expect(problems(NetworkSpecDoc, range('10.100.0.1', '10.100.0.10'))).toEqual(['ipv4.dhcp: dhcp range 10.100.0.1-10.100.0.10 contains the gateway 10.100.0.1']);
    expect(problems(NetworkSpecDoc, range('10.100.0.10', null))).toEqual(['ipv4.dhcp: give both the start and the end of the dhcp range, or neither']);
    expect(problems(NetworkSpecDoc, range(null, null))).toEqual(['ipv4.dhcp: dhcp needs a range (start and end)']);
    expect(problems(NetworkSpecDoc, range(null, null, false))).toEqual([]);
    expect(problems(NetworkSpecDoc, range('10.100.0.10', '10.100.0.20', false))).toEqual([]);
  });

  it('holds ipv6 to canonical form, a prefix that fits, and /64 for dhcp', () => {
    const v6 = (patch: object) => ({ ...managed, ipv6: { ...managed.ipv6, ...patch } });
    expect(problems(NetworkSpecDoc, v6({ subnet: 'fd00:100:0::/64' }))).toEqual(['ipv6.subnet: fd00:100:0::/64 is not in canonical form; write fd00:100::/64']);
    expect(problems(NetworkSpecDoc, v6({ subnet: 'fd00:100::1/64' }))).toEqual(['ipv6.subnet: fd00:100::1/64 has host bits set']);
    expect(problems(NetworkSpecDoc, v6({ subnet: 'fd00:100::/80', gateway: 'fd00:100::1' }))).toEqual(['ipv6.dhcp: dhcp on ipv6 needs a /64 subnet, not fd00:100::/80']);
    expect(problems(NetworkSpecDoc, v6({ subnet: 'fd00:100::/80', dhcp: { enabled: false } }))).toEqual([]);
    expect(problems(NetworkSpecDoc, v6({ gateway: 'fd00:101::1' }))).toEqual(['ipv6.gateway: gateway fd00:101::1 is outside subnet fd00:100::/64']);
    expect(problems(NetworkSpecDoc, v6({ gateway: 'fd00:100::' }))).toEqual(['ipv6.gateway: gateway fd00:100:: is the subnet-router anycast address of subnet fd00:100::/64']);
    expect(problems(NetworkSpecDoc, v6({ gateway: 'FD00:100::1' }))[0]).toMatch(/^ipv6.gateway: must be an ipv6 address in canonical/);
  });

  it('needs at least one address family on a managed network', () => {
    expect(problems(NetworkSpecDoc, { ...managed, ipv4: null, ipv6: null })).toEqual(['ipv4: a managed network needs an ipv4 or an ipv6 subnet (or both)']);
    expect(problems(NetworkSpecDoc, { ...managed, ipv6: null })).toEqual([]);
  });

  it('refuses bad ids, mtus, domains, devices, name servers and unknown fields', () => {
    expect(problems(NetworkSpecDoc, { ...managed, vni: 0 })[0]).toMatch(/^vni:/);
    expect(problems(NetworkSpecDoc, { ...managed, vni: 16_777_216 })[0]).toMatch(/^vni:/);
    expect(problems(NetworkSpecDoc, { ...managed, mtu: 1000 })[0]).toMatch(/^mtu:/);
    expect(problems(NetworkSpecDoc, { ...managed, domain: 'Prod.local' })).toEqual(['domain: must be a dns name in lowercase, such as prod.pvc.local']);
    expect(problems(NetworkSpecDoc, { ...managed, nameServers: ['10.0.0.1', '10.0.0.1'] })).toEqual(['nameServers: must not list the same name server twice']);
    expect(problems(NetworkSpecDoc, { ...managed, nameServers: ['dns.example'] })[0]).toMatch(/^nameServers.0: must be an ipv4 or canonical ipv6/);
    expect(problems(NetworkSpecDoc, { ...managed, vlan: 5 })[0]).toMatch(/vlan/);
    expect(problems(NetworkSpecDoc, { ...managed, description: 'a\nb' })).toEqual(['description: must not contain control characters']);
    const bridged = { name: 'b', type: 'bridged', vlan: 4095, device: 'eth0; rm', mtu: null, description: '' };
    expect(problems(NetworkSpecDoc, bridged).map((p) => p.split(':')[0])).toEqual(['vlan', 'device']);
    expect(problems(NetworkSpecDoc, { ...bridged, vlan: 5, device: 'averyveryverylongname' })[0]).toMatch(/^device: must be an interface name of 1-15/);
  });
});

describe('reservation, lease, acl and cluster network codecs', () => {
  it('checks reservations and leases', () => {
    expect(problems(DhcpReservationDoc, { mac: '52:54:00:00:00:01', ipv4: '10.0.0.5', hostname: 'web1' })).toEqual([]);
    expect(problems(DhcpReservationDoc, { mac: '52:54:00:00:00:01', ipv4: '10.0.0.5', hostname: null })).toEqual([]);
    expect(problems(DhcpReservationDoc, { mac: '01:00:5e:00:00:01', ipv4: '10.0.0.5', hostname: null })).toEqual(['mac: must be a unicast mac address such as 52:54:00:12:34:56']);
    expect(problems(DhcpLeaseDoc, { mac: '52:54:00:00:00:01', ipv4: '10.0.0.5', hostname: 'Laptop-1', expiresAtS: 0 })).toEqual([]);
    expect(problems(DhcpLeaseDoc, { mac: '52:54:00:00:00:01', ipv4: '10.0.0.5', hostname: 'a b', expiresAtS: -1 }).map((p) => p.split(':')[0])).toEqual(['hostname', 'expiresAtS']);
  });

  const acl: NetworkAcl = { direction: 'in', order: 10, action: 'accept', source: '192.168.1.0/24', destination: null, protocol: 'tcp', ports: [{ from: 22, to: 22 }], description: '' };

  it('checks acls: ports only with tcp or udp, subnets as networks, one family', () => {
    expect(problems(NetworkAclDoc, acl)).toEqual([]);
    expect(problems(NetworkAclDoc, { ...acl, protocol: 'icmp' })).toEqual(['ports: ports need protocol tcp or udp']);
    expect(problems(NetworkAclDoc, { ...acl, source: '192.168.1.1/24' })[0]).toMatch(/^source: must be a subnet/);
    expect(problems(NetworkAclDoc, { ...acl, destination: 'fd00::/64' })).toEqual(['destination: source and destination must be of the same address family']);
    expect(problems(NetworkAclDoc, { ...acl, ports: [{ from: 90, to: 80 }] })).toEqual(['ports.0: from must not be above to']);
    expect(problems(NetworkAclDoc, { ...acl, ports: [] })[0]).toMatch(/^ports:/);
  });

  it('checks the cluster network settings and has sane defaults', () => {
    expect(problems(ClusterNetworkDoc, defaultClusterNetwork('c1'))).toEqual([]);
    expect(defaultClusterNetwork('c1')).toEqual({ asn: 65500, upstreamPeers: [], floatingIps: [], dnsZone: 'c1.pvc.local', upstreamResolvers: [] });
    const good = { asn: 65100, upstreamPeers: [{ address: '192.0.2.1', asn: 65001 }], floatingIps: [{ address: '10.0.0.254/24', device: null }], dnsZone: 'lab.example' };
    expect(problems(ClusterNetworkDoc, good)).toEqual([]);
    expect(problems(ClusterNetworkDoc, { ...good, upstreamPeers: [good.upstreamPeers[0], good.upstreamPeers[0]] })).toEqual(['upstreamPeers: must not list the same peer address twice']);
    expect(problems(ClusterNetworkDoc, { ...good, floatingIps: [{ address: '10.0.0.254/24', device: null }, { address: '10.0.0.254/32', device: 'eno1' }] })).toEqual([
      'floatingIps: must not list the same address twice',
    ]);
    expect(problems(ClusterNetworkDoc, { ...good, floatingIps: [{ address: '10.0.0.254', device: null }] })[0]).toMatch(/^floatingIps.0.address: must be an address with a prefix length/);
    expect(problems(ClusterNetworkDoc, { ...good, asn: 0 })[0]).toMatch(/^asn:/);
    // upstreamResolvers: absent in older documents (read as none); addresses, each once, at most 4.
    expect(ClusterNetworkDoc.parse(good).upstreamResolvers).toEqual([]);
    expect(problems(ClusterNetworkDoc, { ...good, upstreamResolvers: ['192.0.2.53', '2001:db8::53'] })).toEqual([]);
    expect(problems(ClusterNetworkDoc, { ...good, upstreamResolvers: ['dns.example'] })[0]).toMatch(/^upstreamResolvers.0: must be an ipv4 or canonical ipv6 address/);
    expect(problems(ClusterNetworkDoc, { ...good, upstreamResolvers: ['192.0.2.53', '192.0.2.53'] })).toEqual(['upstreamResolvers: must not list the same resolver twice']);
    expect(problems(ClusterNetworkDoc, { ...good, upstreamResolvers: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5'] })).toEqual(['upstreamResolvers: at most 4 upstream resolvers']);
  });
});

describe('helpers and paths', () => {
  const bridged: NetworkSpec = { name: 'uplink', type: 'bridged', vlan: 200, device: null, mtu: null, description: '' };

  it('names bridges and member interfaces from the vni or vlan', () => {
    expect(bridgeNameOf(managed)).toBe('vmbr100');
    expect(memberInterfaceOf(managed)).toBe('vxlan100');
    expect(bridgeNameOf(bridged)).toBe('vmbr200');
    expect(memberInterfaceOf(bridged)).toBe('vlan200');
    expect(bridgeNameOf({ ...managed, vni: 16_777_215 }).length).toBeLessThanOrEqual(15);
  });

  it('sorts acls by direction, order, then name', () => {
    const a = (name: string, direction: 'in' | 'out', order: number) => ({ name, acl: { ...({} as NetworkAcl), direction, order } });
    expect(sortAcls([a('z', 'out', 1), a('b', 'in', 20), a('c', 'in', 10), a('a', 'in', 20)]).map((x) => x.name)).toEqual(['c', 'a', 'b', 'z']);
  });

  it('builds every network path and describes it in SCHEMA_DESCRIPTION', () => {
    const layout = new ZkLayout('c1');
    const paths = [
      [layout.networksDir(), '/pvc/c1/networks', '/pvc/<cluster>/networks'],
      [layout.network('prod'), '/pvc/c1/networks/prod', '/pvc/<cluster>/networks/<network>'],
      [layout.networkReservationsDir('prod'), '/pvc/c1/networks/prod/reservations', '/pvc/<cluster>/networks/<network>/reservations'],
      [layout.networkReservation('prod', '52:54:00:ab:cd:ef'), '/pvc/c1/networks/prod/reservations/525400abcdef', '/pvc/<cluster>/networks/<network>/reservations/<mac>'],
      [layout.networkLeasesDir('prod'), '/pvc/c1/networks/prod/leases', '/pvc/<cluster>/networks/<network>/leases'],
      [layout.networkLease('prod', '52:54:00:ab:cd:ef'), '/pvc/c1/networks/prod/leases/525400abcdef', '/pvc/<cluster>/networks/<network>/leases/<mac>'],
      [layout.networkAclsDir('prod'), '/pvc/c1/networks/prod/acls', '/pvc/<cluster>/networks/<network>/acls'],
      [layout.networkAcl('prod', 'ssh'), '/pvc/c1/networks/prod/acls/ssh', '/pvc/<cluster>/networks/<network>/acls/<acl>'],
      [layout.clusterNetwork(), '/pvc/c1/cluster-network', '/pvc/<cluster>/cluster-network'],
    ] as const;
    const described = new Set(SCHEMA_DESCRIPTION.map((e) => e.path));
    for (const [ref, path, generic] of paths) {
      expect(ref.path).toBe(path);
      expect(described, generic).toContain(generic);
    }
    expect(layout.networkDirectories('prod').map((r) => r.path)).toEqual(['/pvc/c1/networks/prod/reservations', '/pvc/c1/networks/prod/leases', '/pvc/c1/networks/prod/acls']);
  });

  it('refuses names and macs that would break a path', () => {
    const layout = new ZkLayout('c1');
    expect(() => layout.network('../x')).toThrow('invalid network name "../x"');
    expect(() => layout.networkAcl('prod', 'A B')).toThrow('invalid acl name "A B"');
    expect(() => layout.networkReservation('prod', '52:54:00:AB:CD:EF')).toThrow('not a stored mac address');
  });
});
