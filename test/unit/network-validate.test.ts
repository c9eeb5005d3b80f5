// The client's network rules (common/client/network-validate.ts, network-draft.ts, the pure parts
// of network-acl.ts, network-dhcp.ts and cluster-network.ts) and the CLI's option parsing: every
// refusal names the wrong value.
import { describe, expect, it } from 'vitest';
import { applyClusterNetworkChanges } from '../../common/client/cluster-network.ts';
import { aclEndpoint, parsePorts, prepareAcl } from '../../common/client/network-acl.ts';
import { parseMac, prepareReservation } from '../../common/client/network-dhcp.ts';
import { applyNetworkPatch, networkSpecFromDraft } from '../../common/client/network-draft.ts';
import { networkConflict, reservationProblem, reservationsMisfit } from '../../common/client/network-validate.ts';
import { defaultClusterNetwork, type DhcpReservation, type ManagedNetwork, type NetworkSpec } from '../../common/zk/schema.ts';
import { networkDraftOf, networkPatchOf } from '../../cli/network-args.ts';
import { thrown } from '../helpers/thrown.ts';

/** The message of the bad-input error `fn` throws. */
function msg(fn: () => unknown): string {
  const error = thrown(fn);
  expect(error.code).toBe('bad-input');
  return error.message;
}

const prod = networkSpecFromDraft({ name: 'prod', type: 'managed', vni: 100, ipv4: { subnet: '10.100.0.0/24', dhcp: { start: '10.100.0.100', end: '10.100.0.199' } } }, 'c1.pvc.local') as ManagedNetwork;
const uplink: NetworkSpec = { name: 'uplink', type: 'bridged', vlan: 200, device: null, mtu: null, description: '' };

function managed(name: string, vni: number, ipv4: string | null, ipv6: string | null = null): NetworkSpec {
  return networkSpecFromDraft({ name, type: 'managed', vni, ipv4: ipv4 ? { subnet: ipv4 } : null, ipv6: ipv6 ? { subnet: ipv6 } : null }, 'z');
}

describe('networkSpecFromDraft', () => {
  it('fills in defaults: gateway, dhcp on with a range, domain, firewall', () => {
    expect(prod).toEqual({
      name: 'prod',
      type: 'managed',
      vni: 100,
      description: '',
      domain: 'prod.c1.pvc.local',
      mtu: null,
      ipv4: { subnet: '10.100.0.0/24', gateway: '10.100.0.1', dhcp: { enabled: true, start: '10.100.0.100', end: '10.100.0.199' } },
      ipv6: null,
      nameServers: [],
      firewall: { defaultInbound: 'accept', defaultOutbound: 'accept' },
    });
    const v6 = networkSpecFromDraft({ name: 'v6', type: 'managed', vni: 7, ipv6: { subnet: 'FD00:7:0::/64', dhcp: { enabled: true } }, nameServers: ['FD00::53'] }, 'z');
    expect(v6).toMatchObject({ ipv4: null, ipv6: { subnet: 'fd00:7::/64', gateway: 'fd00:7::1', dhcp: { enabled: true } }, nameServers: ['fd00::53'] });
    expect(networkSpecFromDraft({ name: 'b', type: 'bridged', vlan: 5 }, 'z')).toEqual({ name: 'b', type: 'bridged', vlan: 5, device: null, mtu: null, description: '' });
  });

  it('refuses what does not fit the type, a missing id, and invalid values, naming them', () => {
    expect(msg(() => networkSpecFromDraft({ name: 'b', type: 'bridged', vlan: 5, vni: 5 }, 'z'))).toBe('invalid network "b": vni does not apply to a bridged network');
    expect(msg(() => networkSpecFromDraft({ name: 'm', type: 'managed', vni: 5, vlan: 5, ipv4: { subnet: '10.0.0.0/24' } }, 'z'))).toBe('invalid network "m": vlan does not apply to a managed network');
    expect(msg(() => networkSpecFromDraft({ name: 'm', type: 'managed', ipv4: { subnet: '10.0.0.0/24' } }, 'z'))).toBe('invalid network "m": a managed network needs a vni');
    expect(msg(() => networkSpecFromDraft({ name: 'b', type: 'bridged' }, 'z'))).toBe('invalid network "b": a bridged network needs a vlan');
    expect(msg(() => networkSpecFromDraft({ name: 'm', type: 'managed', vni: 5, ipv4: { subnet: '10.0.0.0/24', gateway: '10.0.1.1' } }, 'z'))).toBe(
      'invalid network "m": ipv4.gateway: gateway 10.0.1.1 is outside subnet 10.0.0.0/24',
    );
    expect(msg(() => networkSpecFromDraft({ name: 'm', type: 'managed', vni: 5, ipv4: { subnet: '10.0.0/24' } }, 'z'))).toBe('invalid ipv4 subnet "10.0.0/24": use a subnet such as 10.0.0.0/24');
    expect(msg(() => networkSpecFromDraft({ name: 'm', type: 'managed', vni: 5 }, 'z'))).toBe('invalid network "m": ipv4: a managed network needs an ipv4 or an ipv6 subnet (or both)');
    expect(msg(() => networkSpecFromDraft({ name: 'M', type: 'bridged', vlan: 1 }, 'z'))).toMatch(/^invalid network "M": name: use 1-63 lowercase/);
    expect(msg(() => networkSpecFromDraft({ name: 'm', type: 'other' }, 'z'))).toMatch(/^invalid network "m": type: /);
    expect(msg(() => networkSpecFromDraft({ name: 'm', type: 'bridged', vlan: 1, colour: 'red' }, 'z'))).toMatch(/^invalid network "m": .*colour/);
  });
});

describe('networkConflict', () => {
  const others = [prod, uplink, managed('v6', 300, null, 'fd00:300::/64')];

  it('refuses a vni in use, a vlan in use, and a bridge name taken across kinds', () => {
    expect(networkConflict(managed('x', 100, '10.1.0.0/24'), others)).toBe('vni 100 is already used by network prod');
    expect(networkConflict({ ...uplink, name: 'x' }, others)).toBe('vlan 200 is already used by network uplink');
    expect(networkConflict(managed('x', 200, '10.1.0.0/24'), others)).toBe('bridge name vmbr200 is already used by network uplink (its vlan 200); vni 200 cannot be used');
    expect(networkConflict({ ...uplink, name: 'x', vlan: 100 }, others)).toBe('bridge name vmbr100 is already used by network prod (its vni 100); vlan 100 cannot be used');
  });

  it('refuses overlapping subnets of either family, and allows what is apart', () => {
    expect(networkConflict(managed('x', 1, '10.100.0.128/25'), others)).toBe('ipv4 subnet 10.100.0.128/25 overlaps subnet 10.100.0.0/24 of network prod');
    expect(networkConflict(managed('x', 1, '10.0.0.0/8'), others)).toBe('ipv4 subnet 10.0.0.0/8 overlaps subnet 10.100.0.0/24 of network prod');
    expect(networkConflict(managed('x', 1, null, 'fd00:300::/64'), others)).toBe('ipv6 subnet fd00:300::/64 overlaps subnet fd00:300::/64 of network v6');
    expect(networkConflict(managed('x', 1, '10.101.0.0/24', 'fd00:301::/64'), others)).toBeNull();
    // A network is not in conflict with its own former self (modify).
    expect(networkConflict({ ...prod, description: 'changed' }, others)).toBeNull();
  });
});

describe('reservations', () => {
  const existing: DhcpReservation[] = [{ mac: '52:54:00:00:00:01', ipv4: '10.100.0.10', hostname: 'web1' }];
  const r = (ipv4: string, mac = '52:54:00:00:00:02', hostname: string | null = null): DhcpReservation => ({ mac, ipv4, hostname });

  it('refuses an ip outside the subnet, on its edges or the gateway, or in use; a mac or hostname in use', () => {
    expect(reservationProblem(prod, r('10.100.0.11'), existing)).toBeNull();
    expect(reservationProblem(prod, r('10.100.1.11'), existing)).toBe('ip 10.100.1.11 is outside subnet 10.100.0.0/24');
    expect(reservationProblem(prod, r('10.100.0.0'), existing)).toBe('ip 10.100.0.0 is the network address of subnet 10.100.0.0/24');
    expect(reservationProblem(prod, r('10.100.0.255'), existing)).toBe('ip 10.100.0.255 is the broadcast address of subnet 10.100.0.0/24');
    expect(reservationProblem(prod, r('10.100.0.1'), existing)).toBe('ip 10.100.0.1 is the gateway of subnet 10.100.0.0/24');
    expect(reservationProblem(prod, r('10.100.0.10'), existing)).toBe('ip 10.100.0.10 is already reserved for mac 52:54:00:00:00:01 on network prod');
    expect(reservationProblem(prod, r('10.100.0.12', '52:54:00:00:00:01'), existing)).toBe('mac 52:54:00:00:00:01 already has a reservation on network prod (10.100.0.10); remove it first');
    expect(reservationProblem(prod, r('10.100.0.12', undefined, 'web1'), existing)).toBe('hostname web1 is already reserved for mac 52:54:00:00:00:01 on network prod');
    expect(reservationProblem(uplink, r('10.100.0.12'), [])).toBe('network uplink is bridged: dhcp reservations need a managed network');
    expect(reservationProblem(managed('v6', 3, null, 'fd00:3::/64'), r('10.100.0.12'), [])).toBe('network v6 has no ipv4 subnet: dhcp reservations need one');
  });

  it('says when a changed network no longer holds its reservations', () => {
    expect(reservationsMisfit(prod, existing)).toBeNull();
    expect(reservationsMisfit({ ...prod, ipv4: { ...prod.ipv4!, subnet: '10.101.0.0/24', gateway: '10.101.0.1', dhcp: { enabled: false, start: null, end: null } } }, existing)).toBe(
      'the reservation of mac 52:54:00:00:00:01 no longer fits: ip 10.100.0.10 is outside subnet 10.101.0.0/24; remove it first (pvc network dhcp remove prod 52:54:00:00:00:01)',
    );
    expect(reservationsMisfit({ ...prod, ipv4: { ...prod.ipv4!, gateway: '10.100.0.10' } }, existing)).toMatch(/ip 10.100.0.10 is the gateway/);
    expect(reservationsMisfit({ ...prod, ipv4: null, ipv6: { subnet: 'fd00::/64', gateway: 'fd00::1', dhcp: { enabled: false } } }, existing)).toBe(
      'network prod has 1 dhcp reservations, which need an ipv4 subnet; remove them first',
    );
  });

  it('normalizes and checks what a person types', () => {
    expect(parseMac('52-54-00-AA-BB-CC')).toBe('52:54:00:aa:bb:cc');
    expect(msg(() => parseMac('52:54:00:aa:bb'))).toBe('invalid mac "52:54:00:aa:bb": must be a unicast mac address such as 52:54:00:12:34:56');
    expect(msg(() => parseMac('01:00:5e:00:00:01'))).toMatch(/^invalid mac "01:00:5e:00:00:01"/);
    expect(prepareReservation({ mac: '52:54:00:AA:BB:CC', ipv4: '10.0.0.5' })).toEqual({ mac: '52:54:00:aa:bb:cc', ipv4: '10.0.0.5', hostname: null });
    expect(msg(() => prepareReservation({ mac: '52:54:00:aa:bb:cc', ipv4: '10.0.0.500' }))).toMatch(/^invalid reservation for mac 52:54:00:aa:bb:cc: ipv4: must be an ipv4 address/);
    expect(msg(() => prepareReservation({ mac: '52:54:00:aa:bb:cc', ipv4: '10.0.0.5', hostname: 'Web_1' }))).toMatch(/^invalid reservation for mac 52:54:00:aa:bb:cc: hostname: use 1-63 lowercase/);
  });
});

describe('applyNetworkPatch', () => {
  it('changes only what is given, keeps the rest, and removes a family on null', () => {
    expect(applyNetworkPatch(prod, { description: 'x', mtu: 1400 })).toEqual({ ...prod, description: 'x', mtu: 1400 });
    expect(applyNetworkPatch(prod, { ipv4: { dhcp: { enabled: false } } }).type === 'managed' && applyNetworkPatch(prod, { ipv4: { dhcp: { enabled: false } } })).toMatchObject({
      ipv4: { dhcp: { enabled: false, start: '10.100.0.100', end: '10.100.0.199' } },
    });
    expect(applyNetworkPatch(prod, { ipv6: { subnet: 'fd00:100::/64' } })).toMatchObject({ ipv6: { subnet: 'fd00:100::/64', gateway: 'fd00:100::1', dhcp: { enabled: false } } });
    const both = applyNetworkPatch(prod, { ipv6: { subnet: 'fd00:100::/64' } });
    expect(applyNetworkPatch(both, { ipv6: null })).toEqual(prod);
    expect(applyNetworkPatch(prod, { firewall: { defaultInbound: 'drop' } })).toMatchObject({ firewall: { defaultInbound: 'drop', defaultOutbound: 'accept' } });
    expect(applyNetworkPatch(uplink, { vlan: 201, device: 'eno3' })).toEqual({ ...uplink, vlan: 201, device: 'eno3' });
  });

  it('refuses what the result would break, naming it', () => {
    expect(msg(() => applyNetworkPatch(prod, { ipv4: { gateway: '10.100.0.150' } }))).toBe('invalid network prod: ipv4.dhcp: dhcp range 10.100.0.100-10.100.0.199 contains the gateway 10.100.0.150');
    expect(msg(() => applyNetworkPatch(prod, { ipv4: { subnet: '10.200.0.0/24' } }))).toBe('invalid network prod: ipv4.gateway: gateway 10.100.0.1 is outside subnet 10.200.0.0/24');
    expect(msg(() => applyNetworkPatch(prod, { ipv4: null }))).toBe('invalid network prod: ipv4: a managed network needs an ipv4 or an ipv6 subnet (or both)');
    expect(msg(() => applyNetworkPatch(prod, { vlan: 3 }))).toBe('invalid network prod: vlan does not apply to a managed network');
    expect(msg(() => applyNetworkPatch(uplink, { domain: 'x.y' }))).toBe('invalid network uplink: domain does not apply to a bridged network');
    expect(msg(() => applyNetworkPatch({ ...prod, ipv6: null }, { ipv6: { gateway: 'fd00::1' } }))).toBe('invalid network prod: it has no ipv6 subnet yet; give one');
    expect(msg(() => applyNetworkPatch(prod, { name: 'other' }))).toMatch(/^invalid change to network prod: .*name/);
  });
});

describe('acls', () => {
  it('parses ports and endpoints, naming the wrong part', () => {
    expect(parsePorts('22')).toEqual([{ from: 22, to: 22 }]);
    expect(parsePorts('22, 80-90')).toEqual([{ from: 22, to: 22 }, { from: 80, to: 90 }]);
    expect(msg(() => parsePorts('22,http'))).toBe('invalid port "http" in "22,http": use numbers 1-65535 and ranges such as 80-90, separated by commas');
    expect(aclEndpoint('10.0.0.5', 'source')).toBe('10.0.0.5/32');
    expect(aclEndpoint('FD00::5', 'source')).toBe('fd00::5/128');
    expect(aclEndpoint('10.0.0.0/8', 'source')).toBe('10.0.0.0/8');
    expect(msg(() => aclEndpoint('10.0.0.5/8', 'source'))).toBe('invalid acl source 10.0.0.5/8: it has host bits set; the subnet is 10.0.0.0/8');
    expect(msg(() => aclEndpoint('somewhere', 'destination'))).toBe('invalid acl destination "somewhere": use an address or a subnet such as 10.0.0.0/24');
  });

  it('orders a new rule after the last of its direction, and checks it', () => {
    const existing = [
      { name: 'a', acl: { ...prepareAcl({ name: 'a', direction: 'in', action: 'accept' }, []), order: 30 } },
      { name: 'b', acl: prepareAcl({ name: 'b', direction: 'out', action: 'drop', order: 70 }, []) },
    ];
    expect(prepareAcl({ name: 'c', direction: 'in', action: 'drop' }, existing).order).toBe(40);
    expect(prepareAcl({ name: 'c', direction: 'in', action: 'drop' }, []).order).toBe(0);
    expect(prepareAcl({ name: 'ssh', direction: 'in', action: 'accept', protocol: 'tcp', ports: '22', source: '192.168.1.0/24' }, [])).toEqual({
      direction: 'in',
      order: 0,
      action: 'accept',
      source: '192.168.1.0/24',
      destination: null,
      protocol: 'tcp',
      ports: [{ from: 22, to: 22 }],
      description: '',
    });
    expect(msg(() => prepareAcl({ name: 'x', direction: 'sideways', action: 'accept' }, []))).toBe('invalid acl direction "sideways": use in (towards the network\'s vms) or out (from them)');
    expect(msg(() => prepareAcl({ name: 'x', direction: 'in', action: 'allow' }, []))).toMatch(/^invalid acl x: action: .*"allow"/);
    expect(msg(() => prepareAcl({ name: 'x', direction: 'in', action: 'accept', ports: '22' }, []))).toBe('invalid acl x: ports: ports need protocol tcp or udp');
    expect(msg(() => prepareAcl({ name: 'x', direction: 'in', action: 'accept', protocol: 'tcp', ports: '0' }, []))).toMatch(/^invalid acl x: ports.0.from: /);
    expect(msg(() => prepareAcl({ name: 'X', direction: 'in', action: 'accept' }, []))).toMatch(/^invalid acl name "X"/);
  });
});

describe('cluster network changes', () => {
  const base = defaultClusterNetwork('c1');

  it('adds and removes peers and floating ips, and sets scalars', () => {
    const next = applyClusterNetworkChanges(base, { asn: 65100, dnsZone: 'lab.example', addPeers: [{ address: '192.0.2.1', asn: 65001 }], addFloatingIps: [{ address: 'FD00::FE/64', device: 'eno1' }] });
    expect(next).toEqual({ asn: 65100, dnsZone: 'lab.example', upstreamPeers: [{ address: '192.0.2.1', asn: 65001 }], floatingIps: [{ address: 'fd00::fe/64', device: 'eno1' }], upstreamResolvers: [] });
    // The resolver list is replaced as a whole, canonical; [] clears it.
    const resolved = applyClusterNetworkChanges(next, { upstreamResolvers: ['2001:DB8::53', '192.0.2.53'] });
    expect(resolved.upstreamResolvers).toEqual(['2001:db8::53', '192.0.2.53']);
    expect(applyClusterNetworkChanges(resolved, { upstreamResolvers: [] }).upstreamResolvers).toEqual([]);
    expect(applyClusterNetworkChanges(resolved, { asn: 65200 }).upstreamResolvers).toEqual(['2001:db8::53', '192.0.2.53']);
    expect(applyClusterNetworkChanges(next, { removePeers: ['192.0.2.1'], removeFloatingIps: ['fd00::fe'] })).toEqual({ ...next, upstreamPeers: [], floatingIps: [] });
    // Removals first: a peer is changed by removing and adding it in one call.
    expect(applyClusterNetworkChanges(next, { removePeers: ['192.0.2.1'], addPeers: [{ address: '192.0.2.1', asn: 65002 }] }).upstreamPeers).toEqual([{ address: '192.0.2.1', asn: 65002 }]);
  });

  it('refuses a duplicate, an unknown removal or a bad value, naming it', () => {
    const one = applyClusterNetworkChanges(base, { addPeers: [{ address: '192.0.2.1', asn: 65001 }] });
    expect(msg(() => applyClusterNetworkChanges(one, { addPeers: [{ address: '192.0.2.1', asn: 1 }] }))).toBe('upstream peer 192.0.2.1 is already configured; remove it first to change it');
    expect(msg(() => applyClusterNetworkChanges(one, { removePeers: ['192.0.2.9'] }))).toBe('no upstream peer "192.0.2.9" to remove');
    expect(msg(() => applyClusterNetworkChanges(one, { removeFloatingIps: ['10.0.0.1'] }))).toBe('no floating ip "10.0.0.1" to remove');
    expect(msg(() => applyClusterNetworkChanges(one, { dnsZone: 'Bad_Zone' }))).toMatch(/^invalid cluster network settings: dnsZone: must be a dns name/);
    expect(msg(() => applyClusterNetworkChanges(one, { addPeers: [{ address: 'router', asn: 1 }] }))).toMatch(/^invalid cluster network settings: upstreamPeers.1.address: /);
    expect(msg(() => applyClusterNetworkChanges(one, { addFloatingIps: [{ address: '10.0.0.1', device: null }] }))).toMatch(/^invalid cluster network settings: floatingIps.0.address: must be an address with a prefix length/);
  });
});

describe('pvc network options', () => {
  it('builds a draft for add', () => {
    expect(networkDraftOf('prod', { vni: '100', ipv4: '10.100.0.0/24', dhcp4Start: '10.100.0.100', dhcp4End: '10.100.0.199', nameServer: ['1.1.1.1'], firewallIn: 'drop', mtu: 'auto' })).toEqual({
      name: 'prod',
      type: 'managed',
      vni: 100,
      mtu: null,
      nameServers: ['1.1.1.1'],
      firewall: { defaultInbound: 'drop' },
      ipv4: { subnet: '10.100.0.0/24', dhcp: { start: '10.100.0.100', end: '10.100.0.199' } },
    });
    expect(networkDraftOf('up', { type: 'bridged', vlan: '200', device: 'default' })).toEqual({ name: 'up', type: 'bridged', vlan: 200, device: null });
  });

  it('builds a patch for modify', () => {
    expect(networkPatchOf({ dhcp4: false })).toEqual({ ipv4: { dhcp: { enabled: false } } });
    expect(networkPatchOf({ removeIpv6: true, clearNameServers: true })).toEqual({ ipv6: null, nameServers: [] });
    expect(networkPatchOf({ ipv6: 'fd00::/64', dhcp6: true })).toEqual({ ipv6: { subnet: 'fd00::/64', dhcp: { enabled: true } } });
  });

  it('refuses wrong options, naming them', () => {
    expect(msg(() => networkDraftOf('x', { vni: 'ten' }))).toBe('invalid --vni "ten": use a whole number from 1 to 16777215');
    expect(msg(() => networkDraftOf('x', { vni: '0' }))).toBe('invalid --vni "0": use a whole number from 1 to 16777215');
    expect(msg(() => networkDraftOf('x', { type: 'bridged', vlan: '4095' }))).toBe('invalid --vlan "4095": use a whole number from 1 to 4094');
    expect(msg(() => networkDraftOf('x', { type: 'routed' }))).toBe('invalid --type "routed": use managed or bridged');
    expect(msg(() => networkDraftOf('x', { vni: '1', gateway4: '10.0.0.1' }))).toBe('ipv4 options need the subnet: give --ipv4 SUBNET');
    expect(msg(() => networkDraftOf('x', { vni: '1', removeIpv4: true }))).toBe('--remove-ipv4 and --remove-ipv6 are for `network modify`');
    expect(msg(() => networkPatchOf({}))).toBe('nothing to change: give at least one option (see pvc network modify --help)');
    expect(msg(() => networkPatchOf({ type: 'bridged' }))).toBe('the type of a network cannot change: remove it and add it again');
    expect(msg(() => networkPatchOf({ removeIpv4: true, gateway4: '10.0.0.1' }))).toBe('--remove-ipv4 cannot be given with other ipv4 options');
    expect(msg(() => networkPatchOf({ nameServer: ['1.1.1.1'], clearNameServers: true }))).toBe('give either --name-server or --clear-name-servers, not both');
  });
});
