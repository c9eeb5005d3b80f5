// The DNS planner: zones from networks, reservations and leases; changes from what PowerDNS holds.
import { describe, expect, it } from 'vitest';
import { desiredZones, planDns } from '../../daemon/reconcile/dns-plan.ts';
import { ptrNameOf, reverseZoneOfSubnet, servedZones } from '../../daemon/reconcile/dns-zones.ts';
import { CLUSTER_NETWORK, LEASE_VM2, RESERVATION_ANON, RESERVATION_WEB, managedNetwork } from '../helpers/network-fixtures.ts';

const prod = managedNetwork();

describe('zone names', () => {
  it('rounds subnets out to whole octets for reverse zones', () => {
    expect(reverseZoneOfSubnet('10.100.0.0/24')).toBe('0.100.10.in-addr.arpa.');
    expect(reverseZoneOfSubnet('10.100.4.0/22')).toBe('100.10.in-addr.arpa.');
    expect(reverseZoneOfSubnet('10.100.0.128/25')).toBe('0.100.10.in-addr.arpa.');
    expect(reverseZoneOfSubnet('10.0.0.0/8')).toBe('10.in-addr.arpa.');
    expect(ptrNameOf('10.100.0.7')).toBe('7.0.100.10.in-addr.arpa.');
  });

  it('serves every domain, the cluster zone and the reverse zones', () => {
    expect(servedZones([prod], CLUSTER_NETWORK)).toEqual(['0.100.10.in-addr.arpa.', 'c1.pvc.local.', 'prod.c1.pvc.local.']);
  });
});

describe('desiredZones', () => {
  it('names reservations first, then leases, with ptr records', () => {
    const clash = { mac: '52:54:00:00:02:09', ipv4: '10.100.0.109', hostname: 'WEB1', expiresAtS: 0 };
    const zones = desiredZones([{ spec: prod, reservations: [RESERVATION_WEB, RESERVATION_ANON], leases: [LEASE_VM2, clash] }], CLUSTER_NETWORK, 30);
    const records = zones.flatMap((z) => z.rrsets.map((s) => `${z.name} ${s.name} ${s.type} ${s.records.join(',')}`));
    expect(records).toEqual([
      '0.100.10.in-addr.arpa. 0.100.10.in-addr.arpa. NS ns1.c1.pvc.local.',
      '0.100.10.in-addr.arpa. 10.0.100.10.in-addr.arpa. PTR web1.prod.c1.pvc.local.',
      '0.100.10.in-addr.arpa. 101.0.100.10.in-addr.arpa. PTR vm2.prod.c1.pvc.local.',
      'c1.pvc.local. c1.pvc.local. NS ns1.c1.pvc.local.',
      'prod.c1.pvc.local. prod.c1.pvc.local. NS ns1.c1.pvc.local.',
      'prod.c1.pvc.local. vm2.prod.c1.pvc.local. A 10.100.0.101',
      'prod.c1.pvc.local. web1.prod.c1.pvc.local. A 10.100.0.10',
    ]);
  });

  it('puts the floating ips in the cluster zone as primary.<zone>', () => {
    const cluster = { ...CLUSTER_NETWORK, floatingIps: [{ address: '192.168.1.250/24', device: null }, { address: 'fd00::250/64', device: null }] };
    const zone = desiredZones([], cluster, 30).find((z) => z.name === 'c1.pvc.local.');
    expect(zone?.rrsets.filter((s) => s.name === 'primary.c1.pvc.local.').map((s) => `${s.type} ${s.records.join(',')}`)).toEqual(['A 192.168.1.250', 'AAAA fd00::250']);
  });

  it('names each node by its underlay address in the cluster zone; never one called primary', () => {
    const nodes = [{ node: 'hv1', address: '10.0.0.11' }, { node: 'hv2', address: 'fd00::12' }, { node: 'primary', address: '10.0.0.99' }];
    const zone = desiredZones([], CLUSTER_NETWORK, 30, nodes).find((z) => z.name === 'c1.pvc.local.');
    expect(zone?.rrsets.filter((s) => s.type !== 'NS').map((s) => `${s.name} ${s.type} ${s.records.join(',')}`)).toEqual(['hv1.c1.pvc.local. A 10.0.0.11', 'hv2.c1.pvc.local. AAAA fd00::12']);
  });
});

describe('planDns', () => {
  const zones = desiredZones([{ spec: prod, reservations: [RESERVATION_WEB], leases: [] }], CLUSTER_NETWORK, 30);
  const soa = { name: 'prod.c1.pvc.local.', type: 'SOA', ttlS: 3600, records: ['ns1 hostmaster 1 2 3 4 5'] };

  it('creates missing zones and deletes zones no longer served', () => {
    const actions = planDns(zones, [{ name: 'old.zone.', rrsets: [] }]);
    expect(actions.map((a) => (a.kind === 'create-zone' ? `create ${a.zone.name}` : a.kind === 'delete-zone' ? `delete ${a.name}` : 'patch'))).toEqual([
      'delete old.zone.',
      'create 0.100.10.in-addr.arpa.',
      'create c1.pvc.local.',
      'create prod.c1.pvc.local.',
    ]);
  });

  it('patches only the record sets that differ, and leaves the soa alone', () => {
    const observed = zones.map((z) => (z.name === 'prod.c1.pvc.local.' ? { ...z, rrsets: [...z.rrsets.filter((s) => s.type !== 'A'), soa, { name: 'gone.prod.c1.pvc.local.', type: 'A', ttlS: 30, records: ['10.100.0.99'] }] } : z));
    expect(planDns(zones, observed)).toEqual([
      {
        kind: 'patch-zone',
        name: 'prod.c1.pvc.local.',
        replace: [{ name: 'web1.prod.c1.pvc.local.', type: 'A', ttlS: 30, records: ['10.100.0.10'] }],
        remove: [{ name: 'gone.prod.c1.pvc.local.', type: 'A' }],
      },
    ]);
    expect(planDns(zones, zones.map((z) => ({ ...z, rrsets: [...z.rrsets, { ...soa, name: z.name }] })))).toEqual([]);
  });
});
