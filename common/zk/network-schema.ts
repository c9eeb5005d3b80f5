// The codecs of the network znodes (issue 6): network specs (managed VXLAN networks and bridged
// VLANs), DHCP reservations and leases, firewall ACLs, and the cluster-wide network settings.
// Part of the schema module: schema.ts builds the paths and re-exports these. Kept apart only
// for size.
//
// A codec checks everything one document can say about itself (an address is an address, the
// gateway lies inside its subnet, ...), so no writer can store a network that contradicts
// itself. Rules that span documents (overlapping subnets, a VNI in use) are the client's:
// common/client/network-validate.ts.
import { z } from 'zod';
import { NAME_PATTERN, NAME_RULE } from '../names.ts';
import { ipFamilyOf, parseAnyCidr } from '../net/ip.ts';
import { formatIpv4, ipv4InSubnet, isIpv4Network, parseIpv4, parseIpv4Cidr } from '../net/ipv4.ts';
import { canonicalIpv6, ipv6InSubnet, isIpv6Network, parseIpv6, parseIpv6Cidr } from '../net/ipv6.ts';
import { MAC_PATTERN, MAC_RULE } from '../net/mac.ts';

export const NETWORK_TYPES = ['managed', 'bridged'] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

/** VXLAN's 24-bit network identifier; 0 is left out as some switches treat it specially. */
export const VNI_MIN = 1;
export const VNI_MAX = 16_777_215;
/** 802.1Q: 0 and 4095 are reserved. */
export const VLAN_MIN = 1;
export const VLAN_MAX = 4_094;
/** IPv6's minimum link MTU; anything lower breaks IPv6 on the network. */
export const NETWORK_MIN_MTU = 1_280;
/** The largest jumbo frame common switches carry. */
export const NETWORK_MAX_MTU = 9_216;
export const NETWORK_DESCRIPTION_MAX_CHARS = 256;
/** DHCP option 6 carries a handful; more than this is a typo, not a design. */
export const NETWORK_MAX_NAME_SERVERS = 8;
/** A /8 is already 16 million addresses; shorter prefixes are certainly a typo. */
export const IPV4_MIN_PREFIX_LENGTH = 8;
/** A /30 leaves room for the gateway and one host. */
export const IPV4_MAX_PREFIX_LENGTH = 30;
export const IPV6_MIN_PREFIX_LENGTH = 48;
export const IPV6_MAX_PREFIX_LENGTH = 126;
/** SLAAC (see ipv6SendsRouterAdvertisements) and dnsmasq's DHCPv6 ranges need a /64. */
export const IPV6_DHCP_PREFIX_LENGTH = 64;
/** Linux's IFNAMSIZ less the terminating zero. */
export const INTERFACE_NAME_MAX_CHARS = 15;
/** A full DNS name. */
export const DOMAIN_MAX_CHARS = 253;
export const ACL_MAX_ORDER = 1_000_000;
export const ACL_MAX_PORT_RANGES = 16;
/** 4-byte ASNs (RFC 6793); 0 is reserved. */
export const ASN_MIN = 1;
export const ASN_MAX = 4_294_967_295;
/** The first private 2-byte ASN (RFC 6996): a safe default for a cluster's own iBGP. */
export const DEFAULT_CLUSTER_ASN = 65_500;
export const CLUSTER_MAX_UPSTREAM_PEERS = 16;
export const CLUSTER_MAX_FLOATING_IPS = 16;
export const CLUSTER_MAX_UPSTREAM_RESOLVERS = 4;

const DOMAIN_LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^${DOMAIN_LABEL}(\\.${DOMAIN_LABEL})*$`);
/** What Linux accepts in an interface name, less the characters that would need quoting anywhere. */
const INTERFACE_NAME = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${INTERFACE_NAME_MAX_CHARS - 1}}$`);
/** A DHCP client may send any case; pvc stores what the client gave, held to a DNS label. */
const LEASE_HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const name = z.string().regex(NAME_PATTERN, NAME_RULE);
const description = z
  .string()
  .max(NETWORK_DESCRIPTION_MAX_CHARS, `must be at most ${NETWORK_DESCRIPTION_MAX_CHARS} characters`)
  .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');
const mtu = z.number().int().min(NETWORK_MIN_MTU).max(NETWORK_MAX_MTU).nullable();
export const domainName = z
  .string()
  .max(DOMAIN_MAX_CHARS, `must be at most ${DOMAIN_MAX_CHARS} characters`)
  .regex(DOMAIN, 'must be a dns name in lowercase, such as prod.pvc.local');
const ipv4Address = z.string().refine((s) => parseIpv4(s) !== null, 'must be an ipv4 address such as 10.0.0.1');
const ipv6Address = z.string().refine((s) => canonicalIpv6(s) === s, 'must be an ipv6 address in canonical (rfc 5952) form, such as fd00::1');
const anyAddress = z.string().refine((s) => ipFamilyOf(s) !== null, 'must be an ipv4 or canonical ipv6 address');
/** A subnet written with its network address: `10.1.0.0/24`, `fd00:1::/64`, in canonical form. */
const anyNetwork = z.string().refine((s) => parseAnyCidr(s)?.networkForm === s, 'must be a subnet such as 10.0.0.0/24 or fd00::/64, written with its network address');
const interfaceName = z.string().regex(INTERFACE_NAME, `must be an interface name of 1-${INTERFACE_NAME_MAX_CHARS} letters, digits, dots, underscores, hyphens`);
export const macAddress = z.string().regex(MAC_PATTERN, MAC_RULE);

export const Ipv4ConfigDoc = z
  .strictObject({
    /** `a.b.c.d/len`, written with the network address. */
    subnet: z.string(),
    /** The address the primary puts on the network's bridge. */
    gateway: ipv4Address,
    /** start and end are inclusive; both null when DHCP is off and no range was ever given. */
    dhcp: z.strictObject({ enabled: z.boolean(), start: ipv4Address.nullable(), end: ipv4Address.nullable() }),
  })
  .superRefine((v4, ctx) => {
    const problem = ipv4ConfigProblem(v4);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
  });
export type Ipv4Config = z.infer<typeof Ipv4ConfigDoc>;

export const Ipv6ConfigDoc = z
  .strictObject({
    subnet: z.string(),
    gateway: ipv6Address,
    /**
     * On: dnsmasq also answers stateless DHCPv6 (the DNS settings); needs a /64. Router
     * advertisements (SLAAC) go out on a /64 whether this is on or not, and never on another
     * length (ipv6SendsRouterAdvertisements).
     */
    dhcp: z.strictObject({ enabled: z.boolean() }),
  })
  .superRefine((v6, ctx) => {
    const problem = ipv6ConfigProblem(v6);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
  });
export type Ipv6Config = z.infer<typeof Ipv6ConfigDoc>;

export const FIREWALL_POLICIES = ['accept', 'drop'] as const;
export type FirewallPolicy = (typeof FIREWALL_POLICIES)[number];

/** A VXLAN network routed by EVPN, with the primary as its gateway, DHCP and DNS server. */
export const ManagedNetworkDoc = z
  .strictObject({
    name,
    type: z.literal('managed'),
    vni: z.number().int().min(VNI_MIN).max(VNI_MAX),
    description,
    /** The DNS domain of the network's hosts; PowerDNS is authoritative for it. */
    domain: domainName,
    /** null: the kernel's choice (the underlay's MTU less the VXLAN overhead). */
    mtu,
    ipv4: Ipv4ConfigDoc.nullable(),
    ipv6: Ipv6ConfigDoc.nullable(),
    /** Handed out by DHCP; empty: the gateway (dnsmasq on the primary) answers DNS. */
    nameServers: z
      .array(anyAddress)
      .max(NETWORK_MAX_NAME_SERVERS, `at most ${NETWORK_MAX_NAME_SERVERS} name servers`)
      .refine((list) => new Set(list).size === list.length, 'must not list the same name server twice'),
    /** What happens to traffic no ACL matched, per direction (seen from the network's VMs). */
    firewall: z.strictObject({ defaultInbound: z.enum(FIREWALL_POLICIES), defaultOutbound: z.enum(FIREWALL_POLICIES) }),
  })
  .refine((spec) => spec.ipv4 !== null || spec.ipv6 !== null, { message: 'a managed network needs an ipv4 or an ipv6 subnet (or both)', path: ['ipv4'] });
export type ManagedNetwork = z.infer<typeof ManagedNetworkDoc>;

/** A VLAN on a physical device, bridged to the VMs; pvc gives it no addresses or services. */
export const BridgedNetworkDoc = z.strictObject({
  name,
  type: z.literal('bridged'),
  vlan: z.number().int().min(VLAN_MIN).max(VLAN_MAX),
  /** The physical device the VLAN is on; null: each node's configured default bridged device. */
  device: interfaceName.nullable(),
  mtu,
  description,
});
export type BridgedNetwork = z.infer<typeof BridgedNetworkDoc>;

export const NetworkSpecDoc = z.discriminatedUnion('type', [ManagedNetworkDoc, BridgedNetworkDoc]);
export type NetworkSpec = z.infer<typeof NetworkSpecDoc>;

/** A fixed address for one MAC, handed out by the network's dnsmasq. */
export const DhcpReservationDoc = z.strictObject({
  mac: macAddress,
  ipv4: ipv4Address,
  /** Registered in DNS under the network's domain; null: whatever name the client sends. */
  hostname: name.nullable(),
});
export type DhcpReservation = z.infer<typeof DhcpReservationDoc>;

/** A lease dnsmasq handed out; written only by the primary. */
export const DhcpLeaseDoc = z.strictObject({
  mac: macAddress,
  ipv4: ipv4Address,
  hostname: z.string().regex(LEASE_HOSTNAME, 'must be a host name of 1-63 letters, digits and inner hyphens').nullable(),
  /** Unix time (seconds) the lease ends, as dnsmasq reports it; 0: never (an infinite lease). */
  expiresAtS: z.number().int().nonnegative(),
});
export type DhcpLease = z.infer<typeof DhcpLeaseDoc>;

export const ACL_DIRECTIONS = ['in', 'out'] as const;
export type AclDirection = (typeof ACL_DIRECTIONS)[number];
export const ACL_ACTIONS = ['accept', 'drop', 'reject'] as const;
export type AclAction = (typeof ACL_ACTIONS)[number];
export const ACL_PROTOCOLS = ['tcp', 'udp', 'icmp', 'any'] as const;
export type AclProtocol = (typeof ACL_PROTOCOLS)[number];

export const PortRangeDoc = z
  .strictObject({ from: z.number().int().min(1).max(65_535), to: z.number().int().min(1).max(65_535) })
  .refine((r) => r.from <= r.to, 'from must not be above to');
export type PortRange = z.infer<typeof PortRangeDoc>;

/**
 * One firewall rule of a managed network. `in` is traffic towards the network's VMs, `out` is
 * traffic from them. Rules of a direction apply in `order` (then name); the first match decides,
 * and the network's default policy takes what none matched.
 */
export const NetworkAclDoc = z
  .strictObject({
    direction: z.enum(ACL_DIRECTIONS),
    order: z.number().int().min(0).max(ACL_MAX_ORDER),
    action: z.enum(ACL_ACTIONS),
    /** A subnet (`10.0.0.5/32` for one host); null: any. */
    source: anyNetwork.nullable(),
    destination: anyNetwork.nullable(),
    protocol: z.enum(ACL_PROTOCOLS),
    /** Destination ports; only with tcp or udp; null: any port. */
    ports: z.array(PortRangeDoc).min(1).max(ACL_MAX_PORT_RANGES).nullable(),
    description,
  })
  .refine((acl) => acl.ports === null || acl.protocol === 'tcp' || acl.protocol === 'udp', { message: 'ports need protocol tcp or udp', path: ['ports'] })
  .refine((acl) => acl.source === null || acl.destination === null || parseAnyCidr(acl.source)?.family === parseAnyCidr(acl.destination)?.family, {
    message: 'source and destination must be of the same address family',
    path: ['destination'],
  });
export type NetworkAcl = z.infer<typeof NetworkAclDoc>;

export const UpstreamPeerDoc = z.strictObject({ address: anyAddress, asn: z.number().int().min(ASN_MIN).max(ASN_MAX) });
export type UpstreamPeer = z.infer<typeof UpstreamPeerDoc>;

export const FloatingIpDoc = z.strictObject({
  /** `address/len` (host bits set: it is an interface address), either family. */
  address: z.string().refine((s) => parseAnyCidr(s)?.interfaceForm === s, 'must be an address with a prefix length, such as 10.0.0.254/24'),
  /** The device the primary puts it on; null: the node's underlay device. */
  device: interfaceName.nullable(),
});
export type FloatingIp = z.infer<typeof FloatingIpDoc>;

/** Cluster-wide network settings, one document. */
export const ClusterNetworkDoc = z.strictObject({
  /** The AS of the cluster's own iBGP (EVPN) sessions. */
  asn: z.number().int().min(ASN_MIN).max(ASN_MAX),
  /** eBGP (or iBGP) peers the coordinators talk to. */
  upstreamPeers: z
    .array(UpstreamPeerDoc)
    .max(CLUSTER_MAX_UPSTREAM_PEERS)
    .refine((list) => new Set(list.map((p) => p.address)).size === list.length, 'must not list the same peer address twice'),
  /** Addresses that move with the primary. */
  floatingIps: z
    .array(FloatingIpDoc)
    .max(CLUSTER_MAX_FLOATING_IPS)
    .refine((list) => new Set(list.map((f) => f.address.slice(0, f.address.indexOf('/')))).size === list.length, 'must not list the same address twice'),
  /** The cluster's own DNS zone (e.g. for its nodes), beside every network's domain. */
  dnsZone: domainName,
  /**
   * Where the networks' DNS (dnsmasq at each gateway) sends names outside pvc's zones; empty:
   * such names are not resolved. Absent in documents written before it existed: empty.
   */
  upstreamResolvers: z
    .array(anyAddress)
    .max(CLUSTER_MAX_UPSTREAM_RESOLVERS, `at most ${CLUSTER_MAX_UPSTREAM_RESOLVERS} upstream resolvers`)
    .refine((list) => new Set(list).size === list.length, 'must not list the same resolver twice')
    .default([]),
});
export type ClusterNetwork = z.infer<typeof ClusterNetworkDoc>;

/** The settings a cluster starts with (migration 3 writes them). */
export function defaultClusterNetwork(cluster: string): ClusterNetwork {
  return { asn: DEFAULT_CLUSTER_ASN, upstreamPeers: [], floatingIps: [], dnsZone: `${cluster}.pvc.local`, upstreamResolvers: [] };
}

// ---- pure helpers ------------------------------------------------------------------------

/** The number behind a network's bridge: its VNI (managed) or VLAN id (bridged). */
export function bridgeIdOf(spec: NetworkSpec): number {
  return spec.type === 'managed' ? spec.vni : spec.vlan;
}

/** The bridge VM NICs of this network attach to on every node: `vmbr<vni|vlan>`. */
export function bridgeNameOf(spec: NetworkSpec): string {
  return `vmbr${bridgeIdOf(spec)}`;
}

/** The interface enslaved to the bridge: `vxlan<vni>` (managed) or `vlan<vlan>` on the device (bridged). */
export function memberInterfaceOf(spec: NetworkSpec): string {
  return spec.type === 'managed' ? `vxlan${spec.vni}` : `vlan${spec.vlan}`;
}

/** ACLs in the order they apply: by direction, then order, then name. */
export function sortAcls<T extends { name: string; acl: NetworkAcl }>(acls: readonly T[]): T[] {
  return [...acls].sort((a, b) => a.acl.direction.localeCompare(b.acl.direction) || a.acl.order - b.acl.order || a.name.localeCompare(b.name));
}

interface FieldProblem {
  field: string;
  message: string;
}

/** What is wrong with an IPv4 config on its own terms; null when nothing is. */
export function ipv4ConfigProblem(v4: { subnet: string; gateway: string; dhcp: { enabled: boolean; start: string | null; end: string | null } }): FieldProblem | null {
  const subnet = parseIpv4Cidr(v4.subnet);
  if (!subnet) return { field: 'subnet', message: `${JSON.stringify(v4.subnet)} is not an ipv4 subnet such as 10.0.0.0/24` };
  if (!isIpv4Network(subnet)) return { field: 'subnet', message: `${v4.subnet} has host bits set; the subnet is ${formatIpv4(subnet.network)}/${subnet.prefixLength}` };
  if (subnet.prefixLength < IPV4_MIN_PREFIX_LENGTH || subnet.prefixLength > IPV4_MAX_PREFIX_LENGTH) {
    return { field: 'subnet', message: `subnet ${v4.subnet}: the prefix length must be ${IPV4_MIN_PREFIX_LENGTH}-${IPV4_MAX_PREFIX_LENGTH}` };
  }
  const gateway = parseIpv4(v4.gateway);
  if (gateway === null) return { field: 'gateway', message: `${JSON.stringify(v4.gateway)} is not an ipv4 address` };
  if (!ipv4InSubnet(gateway, subnet)) return { field: 'gateway', message: `gateway ${v4.gateway} is outside subnet ${v4.subnet}` };
  if (gateway === subnet.network) return { field: 'gateway', message: `gateway ${v4.gateway} is the network address of subnet ${v4.subnet}` };
  if (gateway === subnet.broadcast) return { field: 'gateway', message: `gateway ${v4.gateway} is the broadcast address of subnet ${v4.subnet}` };
  const { enabled, start, end } = v4.dhcp;
  if ((start === null) !== (end === null)) return { field: 'dhcp', message: 'give both the start and the end of the dhcp range, or neither' };
  if (start === null || end === null) return enabled ? { field: 'dhcp', message: 'dhcp needs a range (start and end)' } : null;
  const first = parseIpv4(start);
  const last = parseIpv4(end);
  if (first === null || last === null) return { field: 'dhcp', message: `dhcp range ${start}-${end} is not two ipv4 addresses` };
  for (const [field, text, value] of [['start', start, first], ['end', end, last]] as const) {
    if (!ipv4InSubnet(value, subnet) || value === subnet.network || value === subnet.broadcast) {
      return { field: 'dhcp', message: `dhcp range ${field} ${text} is outside the usable addresses of subnet ${v4.subnet}` };
    }
  }
  if (first > last) return { field: 'dhcp', message: `dhcp range start ${start} is above its end ${end}` };
  if (gateway >= first && gateway <= last) return { field: 'dhcp', message: `dhcp range ${start}-${end} contains the gateway ${v4.gateway}` };
  return null;
}

/**
 * Whether the primary sends router advertisements (SLAAC) on a managed network's IPv6 subnet: on
 * a /64 only. SLAAC forms 64-bit interface identifiers, and dnsmasq refuses an RA range of any
 * other length, and with it its whole config (DHCPv4 and DNS too). Other lengths get the gateway
 * address alone: their guests are addressed statically.
 */
export function ipv6SendsRouterAdvertisements(prefixLength: number): boolean {
  return prefixLength === IPV6_DHCP_PREFIX_LENGTH;
}

/** What is wrong with an IPv6 config on its own terms; null when nothing is. */
export function ipv6ConfigProblem(v6: { subnet: string; gateway: string; dhcp: { enabled: boolean } }): FieldProblem | null {
  const subnet = parseIpv6Cidr(v6.subnet);
  if (!subnet) return { field: 'subnet', message: `${JSON.stringify(v6.subnet)} is not an ipv6 subnet such as fd00:1::/64` };
  const canonical = `${canonicalIpv6(v6.subnet.slice(0, v6.subnet.indexOf('/')))}/${subnet.prefixLength}`;
  if (!isIpv6Network(subnet)) return { field: 'subnet', message: `${v6.subnet} has host bits set` };
  if (canonical !== v6.subnet) return { field: 'subnet', message: `${v6.subnet} is not in canonical form; write ${canonical}` };
  if (subnet.prefixLength < IPV6_MIN_PREFIX_LENGTH || subnet.prefixLength > IPV6_MAX_PREFIX_LENGTH) {
    return { field: 'subnet', message: `subnet ${v6.subnet}: the prefix length must be ${IPV6_MIN_PREFIX_LENGTH}-${IPV6_MAX_PREFIX_LENGTH}` };
  }
  if (v6.dhcp.enabled && subnet.prefixLength !== IPV6_DHCP_PREFIX_LENGTH) {
    return { field: 'dhcp', message: `dhcp on ipv6 needs a /${IPV6_DHCP_PREFIX_LENGTH} subnet, not ${v6.subnet}` };
  }
  const gateway = parseIpv6(v6.gateway);
  if (gateway === null) return { field: 'gateway', message: `${JSON.stringify(v6.gateway)} is not an ipv6 address` };
  if (!ipv6InSubnet(gateway, subnet)) return { field: 'gateway', message: `gateway ${v6.gateway} is outside subnet ${v6.subnet}` };
  if (gateway === subnet.network) return { field: 'gateway', message: `gateway ${v6.gateway} is the subnet-router anycast address of subnet ${v6.subnet}` };
  return null;
}
