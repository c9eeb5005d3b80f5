// The DNS zones pvc serves, by name: every managed network's domain, the cluster's own zone, and
// the IPv4 reverse zones of the networks' subnets. Pure; shared by the DNS planner (which fills
// them) and the DHCP planner (whose dnsmasq forwards exactly these zones to PowerDNS).
import { parseIpv4, parseIpv4Cidr } from '../../common/net/ipv4.ts';
import type { ClusterNetwork, ManagedNetwork } from '../../common/zk/schema.ts';

/** A name with its trailing dot, as PowerDNS writes names. */
export function fqdn(name: string): string {
  return name.endsWith('.') ? name.toLowerCase() : `${name.toLowerCase()}.`;
}

/** A zone or name without its trailing dot, as dnsmasq's config wants it. */
export function withoutDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * The in-addr.arpa zone holding a subnet's PTR records: the subnet rounded out to whole octets
 * (a /24 or any longer prefix -> c.b.a.in-addr.arpa). Networks whose subnets share those octets
 * share the zone; the planner merges their records.
 */
export function reverseZoneOfSubnet(subnet: string): string | null {
  const cidr = parseIpv4Cidr(subnet);
  if (!cidr) return null;
  const octets = Math.max(1, Math.min(3, Math.floor(cidr.prefixLength / 8)));
  const parts = octetsOf(cidr.network).slice(0, octets).reverse();
  return `${parts.join('.')}.in-addr.arpa.`;
}

/** `d.c.b.a.in-addr.arpa.` for a.b.c.d. */
export function ptrNameOf(ipv4: string): string | null {
  const value = parseIpv4(ipv4);
  return value === null ? null : `${octetsOf(value).reverse().join('.')}.in-addr.arpa.`;
}

function octetsOf(value: number): number[] {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
}

/** Every zone pvc serves, sorted, with trailing dots. */
export function servedZones(networks: readonly ManagedNetwork[], cluster: ClusterNetwork): string[] {
  const zones = new Set<string>([fqdn(cluster.dnsZone)]);
  for (const network of networks) {
    zones.add(fqdn(network.domain));
    const reverse = network.ipv4 ? reverseZoneOfSubnet(network.ipv4.subnet) : null;
    if (reverse) zones.add(reverse);
  }
  return [...zones].sort();
}
