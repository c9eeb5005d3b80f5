// The nftables ruleset of pvc's managed networks, rendered from their ACLs (templates/nft/
// pvc.nft.hbs). Pure and idempotent: the same networks and ACLs give the same bytes.
//
// Where it filters: the forward hook (and input, below) of table inet pvc on every node, so
// conntrack is there (the bridge family has none on this kernel) and a new primary finds the
// rules already in place.
// Only the primary routes (it holds the gateways), so in effect the rules apply to traffic routed
// through a network's gateway: "in" is traffic to the network's VMs (out of its bridge), "out" is
// traffic from them (into the bridge). Replies of allowed connections pass (ct established).
// Where br_netfilter hands bridged packets to the inet hooks (bridge-nf-call-iptables=1, as on
// this test machine), traffic within one network shows with the bridge as both in- and
// out-interface: it is accepted first, as it is not routed (it never reaches a gateway).
//
// A packet routed from network A to network B must pass A's "out" chain and B's "in" chain: an
// ACL that accepts ends its own chain with `return` (not `accept`, which would skip the other
// network's chain); drop and reject end the packet.
//
// Traffic from a network's VMs to the node itself (its gateway addresses, its underlay address,
// sshd, anything listening on it) is not forwarded: it meets the input hook. The input chain sends
// what arrives on a managed network's bridge to that network's `-host` chain, which first accepts
// what pvc's own services on the gateway need from the VMs (see hostRules), then jumps to the
// network's "out" chain. Jumping, rather than a host chain of copied out rules: "out" means "from
// the VMs", wherever to, so one ACL list (and its counters) covers both, and an ACL naming the
// gateway as destination works as written. Everything else (other interfaces, loopback, VXLAN
// on the underlay) passes the input chain's policy, accept: the host is never locked out. The
// table is on every node, so a node that is not primary also keeps the VMs off its own ports
// (its bridges have no gateway, but may have IPv6 link-local addresses).
import { ipFamilyOf, parseAnyCidr } from '../../common/net/ip.ts';
import { renderTemplate } from '../../common/templates.ts';
import { bridgeNameOf, sortAcls, type AclAction, type ManagedNetwork, type NetworkAcl } from '../../common/zk/schema.ts';

/** pvc's own table; the apply replaces it and nothing else. */
export const FIREWALL_TABLE = 'pvc';

export interface FirewallNetwork {
  spec: ManagedNetwork;
  acls: ReadonlyArray<{ name: string; acl: NetworkAcl }>;
}

const VERDICTS: Record<AclAction, string> = { accept: 'return', drop: 'drop', reject: 'reject' };

export function renderFirewall(networks: readonly FirewallNetwork[]): string {
  const views = [...networks]
    .sort((a, b) => a.spec.vni - b.spec.vni)
    .map(({ spec, acls }) => {
      const bridge = bridgeNameOf(spec);
      const sorted = sortAcls(acls);
      const rules = (direction: 'in' | 'out', policy: 'accept' | 'drop') => [
        ...sorted.filter((a) => a.acl.direction === direction).map((a) => aclRule(a.name, a.acl)),
        policy === 'drop' ? 'counter drop comment "default drop"' : 'counter comment "default accept"',
      ];
      return {
        name: spec.name,
        bridge,
        inChain: `${bridge}-in`,
        outChain: `${bridge}-out`,
        hostChain: `${bridge}-host`,
        hostRules: hostRules(spec, `${bridge}-out`),
        inRules: rules('in', spec.firewall.defaultInbound),
        outRules: rules('out', spec.firewall.defaultOutbound),
      };
    });
  return renderTemplate('nft/pvc.nft', { table: FIREWALL_TABLE, networks: views });
}

/**
 * The `-host` chain of a network: what pvc's services on the gateway need from the VMs, accepted
 * before the network's out ACLs and default (a default drop must not cut the VMs off their DHCP,
 * DNS and gateway). Per address family the network has, DHCP on or off, so toggling DHCP does not
 * change the firewall: DHCPv4 (udp 67, broadcast from 0.0.0.0), IPv6 neighbour discovery and
 * router solicitations (without them nothing IPv6 works, replies to the VMs included), DHCPv6
 * (udp 547, to a multicast group), DNS (udp and tcp 53) and ping to the gateway address only (the
 * node's other addresses stay behind the out rules). Replies to the node's own connections pass.
 */
export function hostRules(spec: ManagedNetwork, outChain: string): string[] {
  const gw4 = spec.ipv4 === null ? null : address(spec.ipv4.gateway, 4);
  const gw6 = spec.ipv6 === null ? null : address(spec.ipv6.gateway, 6);
  const rules = ['ct state established,related accept comment "replies, and connections already allowed"'];
  if (gw4 !== null) rules.push('udp dport 67 counter accept comment "pvc dhcpv4"');
  if (gw6 !== null) {
    rules.push('icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } counter accept comment "pvc ipv6 neighbour discovery"');
    rules.push('udp dport 547 counter accept comment "pvc dhcpv6"');
  }
  if (gw4 !== null) rules.push(`ip daddr ${gw4} meta l4proto { tcp, udp } th dport 53 counter accept comment "pvc dns at the gateway"`);
  if (gw6 !== null) rules.push(`ip6 daddr ${gw6} meta l4proto { tcp, udp } th dport 53 counter accept comment "pvc dns at the gateway"`);
  if (gw4 !== null) rules.push(`ip daddr ${gw4} icmp type echo-request counter accept comment "pvc ping of the gateway"`);
  if (gw6 !== null) rules.push(`ip6 daddr ${gw6} icmpv6 type echo-request counter accept comment "pvc ping of the gateway"`);
  rules.push(`jump ${outChain} comment "the network's out acls and default"`);
  return rules;
}

/** One ACL as an nft rule: address family, addresses, protocol and ports, a counter, the verdict. */
export function aclRule(name: string, acl: NetworkAcl): string {
  const family = familyOf(acl);
  const ip = family === 6 ? 'ip6' : 'ip';
  const terms: string[] = [];
  if (acl.source !== null) terms.push(`${ip} saddr ${network(acl.source)}`);
  if (acl.destination !== null) terms.push(`${ip} daddr ${network(acl.destination)}`);
  switch (acl.protocol) {
    case 'tcp':
    case 'udp':
      if (acl.ports === null) terms.push(`meta l4proto ${acl.protocol}`);
      else terms.push(`${acl.protocol} dport ${portSet(acl.ports)}`);
      break;
    case 'icmp':
      terms.push(family === 4 ? 'meta l4proto icmp' : family === 6 ? 'meta l4proto ipv6-icmp' : 'meta l4proto { icmp, ipv6-icmp }');
      break;
    case 'any':
      break;
    default: {
      const unknown: never = acl.protocol;
      throw new Error(`unknown acl protocol ${String(unknown)}`);
    }
  }
  return [...terms, 'counter', VERDICTS[acl.action], `comment "acl ${name}"`].join(' ');
}

function familyOf(acl: NetworkAcl): 4 | 6 | null {
  for (const cidr of [acl.source, acl.destination]) {
    if (cidr !== null) return ipFamilyOf(cidr.slice(0, cidr.indexOf('/'))) ?? parseAnyCidr(cidr)?.family ?? null;
  }
  return null;
}

/** The codec already holds gateways to canonical addresses; re-checked so nothing else reaches nft. */
function address(value: string, family: 4 | 6): string {
  if (ipFamilyOf(value) !== family) throw new Error(`gateway ${JSON.stringify(value)} is not an ipv${family} address`);
  return value;
}

/** The codec already holds these to canonical subnets; re-checked so nothing else reaches nft. */
function network(cidr: string): string {
  const parsed = parseAnyCidr(cidr);
  if (!parsed) throw new Error(`acl address ${JSON.stringify(cidr)} is not a subnet`);
  return parsed.networkForm;
}

/** Ranges merged where they overlap or touch: nft refuses overlapping intervals in one set. */
function portSet(ports: ReadonlyArray<{ from: number; to: number }>): string {
  const merged: Array<{ from: number; to: number }> = [];
  for (const range of [...ports].sort((a, b) => a.from - b.from || a.to - b.to)) {
    const last = merged[merged.length - 1];
    if (last && range.from <= last.to + 1) last.to = Math.max(last.to, range.to);
    else merged.push({ ...range });
  }
  const items = merged.map((p) => (p.from === p.to ? String(p.from) : `${p.from}-${p.to}`));
  return items.length === 1 ? (items[0] as string) : `{ ${items.join(', ')} }`;
}
