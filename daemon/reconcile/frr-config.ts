// FRR's configuration of one node, rendered from templates/frr/*.hbs. Pure and idempotent: the
// same input gives the same bytes (peers and subnets are sorted, nothing depends on time or on
// the order ZooKeeper listed things in), so pvcd can compare a rendering with what runs.
//
// The BGP design: one iBGP AS for the cluster, EVPN (l2vpn evpn, advertise-all-vni) between the
// nodes' VTEP addresses. Coordinators are route reflectors: they peer with every node (the other
// coordinators as plain iBGP peers, hypervisors as route-reflector clients); a hypervisor peers
// with every coordinator only. Coordinators also talk to the cluster's upstream peers (IPv4/IPv6
// unicast), announcing the managed networks' subnets where they are connected, which is only on
// the primary (it holds the gateway addresses).
import { ipFamilyOf, parseAnyCidr } from '../../common/net/ip.ts';
import { renderTemplate } from '../../common/templates.ts';
import type { ClusterNetwork, NetworkSpec, NodeRole } from '../../common/zk/schema.ts';
import type { FrrConfig } from '../drivers/frr/port.ts';

/** How often bgpd retries a peer it cannot reach; short, since peers are on one LAN. */
export const BGP_CONNECT_RETRY_S = 2;
/** The last sequence number of a prefix list, for its closing `deny any`. */
const PREFIX_LIST_LAST_SEQ = 4_294_967_295;
const PREFIX_LIST_SEQ_STEP = 10;

export interface FrrNode {
  name: string;
  role: NodeRole;
  /** Its underlay address: BGP router id, peering address and VTEP. */
  vtepAddress: string;
}

export interface FrrInput {
  self: FrrNode;
  /** Every node of the cluster with a VTEP address (self may be among them). */
  nodes: readonly FrrNode[];
  cluster: Pick<ClusterNetwork, 'asn' | 'upstreamPeers'>;
  networks: readonly NetworkSpec[];
  /** Where the daemons write their logs (the node's FRR state folder). */
  logDir: string;
}

const byAddress = <T extends { address: string }>(a: T, b: T) => a.address.localeCompare(b.address);

export function buildFrrConfig(input: FrrInput): FrrConfig {
  const { self, cluster } = input;
  const coordinator = self.role === 'coordinator';
  const others = [...new Map(input.nodes.filter((n) => n.name !== self.name && n.vtepAddress !== self.vtepAddress).map((n) => [n.vtepAddress, n])).values()];
  const peers = others
    .filter((n) => coordinator || n.role === 'coordinator')
    .map((n) => ({ address: n.vtepAddress, description: n.name, reflectorClient: coordinator && n.role !== 'coordinator' }))
    .sort(byAddress);
  const upstream = coordinator ? [...cluster.upstreamPeers].sort(byAddress) : [];
  const families = ([4, 6] as const)
    .map((family) => upstreamFamily(family, upstream.filter((p) => ipFamilyOf(p.address) === family).map((p) => p.address), input.networks))
    .filter((f) => f !== null);
  const logFile = (daemon: string) => `${input.logDir.replace(/\/+$/, '')}/${daemon}.log`;
  const bgpd = renderTemplate('frr/bgpd.conf', {
    hostname: self.name,
    role: self.role,
    logFile: logFile('bgpd'),
    asn: cluster.asn,
    routerId: self.vtepAddress,
    connectRetryS: BGP_CONNECT_RETRY_S,
    peers,
    upstreamPeers: upstream,
    upstreamFamilies: families,
  });
  return {
    zebra: renderTemplate('frr/zebra.conf', { hostname: self.name, logFile: logFile('zebra') }),
    bgpd,
    asn: cluster.asn,
    routerId: self.vtepAddress,
    neighbors: [...peers.map((p) => p.address), ...upstream.map((p) => p.address)].sort(),
    prefixLists: families.map((f) => ({ family: f.family === 'ipv4' ? 4 : 6, name: f.prefixList })),
  };
}

function upstreamFamily(family: 4 | 6, peers: string[], networks: readonly NetworkSpec[]) {
  if (peers.length === 0) return null;
  const subnets = new Set<string>();
  for (const spec of networks) {
    if (spec.type !== 'managed') continue;
    const subnet = family === 4 ? spec.ipv4?.subnet : spec.ipv6?.subnet;
    const cidr = subnet === undefined ? null : parseAnyCidr(subnet);
    if (cidr) subnets.add(cidr.networkForm);
  }
  const suffix = family === 4 ? 'v4' : 'v6';
  return {
    family: family === 4 ? 'ipv4' : 'ipv6',
    peers,
    prefixListKeyword: family === 4 ? 'ip' : 'ipv6',
    matchKeyword: family === 4 ? 'ip' : 'ipv6',
    prefixList: `pvc-networks-${suffix}`,
    exportMap: `pvc-upstream-out-${suffix}`,
    importMap: `pvc-upstream-in-${suffix}`,
    subnets: [...subnets].sort().map((subnet, i) => ({ seq: (i + 1) * PREFIX_LIST_SEQ_STEP, subnet })),
    lastSeq: PREFIX_LIST_LAST_SEQ,
  };
}
