// The DNS planner: the zones PowerDNS should hold, built from ZooKeeper, and the changes that
// take PowerDNS's zones there. Pure.
//
// Per managed network, its domain holds an A record per named host: reservations with a host
// name first, then leases whose client sent one (a name already taken is not given twice; among
// leases the one that ends last wins). Their PTR records go to the IPv4 reverse zones. The
// cluster zone holds `primary.<zone>` for the floating IPs (the addresses that move with the
// primary) and `<node>.<zone>` for each node's underlay (VTEP) address. Every zone names ns1.<cluster zone> as its name server; SOA records are PowerDNS's.
import { ipFamilyOf } from '../../common/net/ip.ts';
import type { ClusterNetwork, DhcpLease, DhcpReservation, ManagedNetwork } from '../../common/zk/schema.ts';
import { DNS_RECORD_TYPES, type DnsRecordType, type RecordSet, type Zone } from '../drivers/pdns/port.ts';
import { fqdn, ptrNameOf, reverseZoneOfSubnet, servedZones } from './dns-zones.ts';

export type { RecordSet, Zone };

export interface NetworkRecords {
  spec: ManagedNetwork;
  reservations: readonly DhcpReservation[];
  leases: readonly DhcpLease[];
}

export type DnsAction =
  | { kind: 'create-zone'; zone: Zone }
  | { kind: 'delete-zone'; name: string }
  | { kind: 'patch-zone'; name: string; replace: RecordSet[]; remove: Array<{ name: string; type: string }> };

export function nameServerOf(cluster: ClusterNetwork): string {
  return fqdn(`ns1.${cluster.dnsZone}`);
}

const endOf = (lease: DhcpLease): number => (lease.expiresAtS === 0 ? Number.POSITIVE_INFINITY : lease.expiresAtS);

/** Host name -> address for one network: reservations, then leases not named by them. */
function hostsOf(network: NetworkRecords): Map<string, string> {
  const hosts = new Map<string, string>();
  for (const r of [...network.reservations].sort((a, b) => a.mac.localeCompare(b.mac))) {
    if (r.hostname && !hosts.has(r.hostname.toLowerCase())) hosts.set(r.hostname.toLowerCase(), r.ipv4);
  }
  const leases = [...network.leases].sort((a, b) => endOf(b) - endOf(a) || a.mac.localeCompare(b.mac));
  for (const lease of leases) {
    const name = lease.hostname?.toLowerCase();
    if (name && !hosts.has(name)) hosts.set(name, lease.ipv4);
  }
  return hosts;
}

/** A node's name and the underlay address its pvcd reports (NodeStatus.network.vtepAddress). */
export interface NodeAddress {
  node: string;
  address: string;
}

export function desiredZones(networks: readonly NetworkRecords[], cluster: ClusterNetwork, ttlS: number, nodes: readonly NodeAddress[] = []): Zone[] {
  const zones = new Map<string, Map<string, RecordSet>>(servedZones(networks.map((n) => n.spec), cluster).map((z) => [z, new Map()]));
  const add = (zone: string, name: string, type: DnsRecordType, content: string): void => {
    const sets = zones.get(zone);
    if (!sets) return;
    const key = `${name} ${type}`;
    const set = sets.get(key) ?? { name, type, ttlS, records: [] };
    if (!set.records.includes(content)) set.records.push(content);
    sets.set(key, set);
  };
  for (const network of networks) {
    const zone = fqdn(network.spec.domain);
    const reverse = network.spec.ipv4 ? reverseZoneOfSubnet(network.spec.ipv4.subnet) : null;
    for (const [host, address] of hostsOf(network)) {
      const name = fqdn(`${host}.${network.spec.domain}`);
      add(zone, name, 'A', address);
      const ptr = ptrNameOf(address);
      if (reverse && ptr?.endsWith(`.${reverse}`)) add(reverse, ptr, 'PTR', name);
    }
  }
  const clusterZone = fqdn(cluster.dnsZone);
  for (const floating of cluster.floatingIps) {
    const address = floating.address.slice(0, floating.address.indexOf('/'));
    add(clusterZone, fqdn(`primary.${cluster.dnsZone}`), ipFamilyOf(address) === 6 ? 'AAAA' : 'A', address);
  }
  for (const { node, address } of nodes) {
    // `primary` is the floating name; a node of that name would muddle it.
    if (node !== 'primary') add(clusterZone, fqdn(`${node}.${cluster.dnsZone}`), ipFamilyOf(address) === 6 ? 'AAAA' : 'A', address);
  }
  const ns = nameServerOf(cluster);
  for (const zone of zones.keys()) add(zone, zone, 'NS', ns);
  return [...zones].map(([name, sets]) => ({
    name,
    rrsets: [...sets.values()].map((s) => ({ ...s, records: [...s.records].sort() })).sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type)),
  }));
}

const key = (set: { name: string; type: string }): string => `${set.name} ${set.type}`;

function sameSet(a: RecordSet, b: RecordSet): boolean {
  return a.ttlS === b.ttlS && a.records.length === b.records.length && a.records.every((r, i) => r === b.records[i]);
}

/**
 * Changes from what PowerDNS holds (`observed`, every zone it has: all of them are pvc's) to
 * `desired`. Record types pvc does not manage (SOA) are left alone.
 */
export function planDns(desired: readonly Zone[], observed: readonly Zone[]): DnsAction[] {
  const have = new Map(observed.map((z) => [z.name, z]));
  const want = new Set(desired.map((z) => z.name));
  const actions: DnsAction[] = [];
  for (const zone of observed) if (!want.has(zone.name)) actions.push({ kind: 'delete-zone', name: zone.name });
  for (const zone of desired) {
    const current = have.get(zone.name);
    if (!current) {
      actions.push({ kind: 'create-zone', zone });
      continue;
    }
    const currentSets = new Map(current.rrsets.filter((s) => (DNS_RECORD_TYPES as readonly string[]).includes(s.type)).map((s) => [key(s), s]));
    const replace = zone.rrsets.filter((s) => {
      const found = currentSets.get(key(s));
      return !found || !sameSet(found, s);
    });
    const wanted = new Set(zone.rrsets.map(key));
    const remove = [...currentSets.values()].filter((s) => !wanted.has(key(s))).map((s) => ({ name: s.name, type: s.type }));
    if (replace.length > 0 || remove.length > 0) actions.push({ kind: 'patch-zone', name: zone.name, replace, remove });
  }
  return actions;
}
