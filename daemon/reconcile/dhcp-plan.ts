// The DHCP planner: which dnsmasq instances the primary runs, from the managed networks in
// ZooKeeper and the instances it has. Pure: (desired, observed) -> actions.
//
// Every managed network gets one dnsmasq: it answers DNS at the gateway even when DHCP is off.
// An instance whose rendered config changed is restarted (dnsmasq reads its config once);
// reservations are files it watches, so they change without a restart.
import { canonicalIp, ipFamilyOf } from '../../common/net/ip.ts';
import { formatIpv4, ipv4Mask, parseIpv4Cidr } from '../../common/net/ipv4.ts';
import { parseIpv6Cidr } from '../../common/net/ipv6.ts';
import { bridgeNameOf, ipv6SendsRouterAdvertisements, type ManagedNetwork } from '../../common/zk/schema.ts';
import type { DnsmasqInstanceInput } from '../drivers/dnsmasq/render.ts';
import { withoutDot } from './dns-zones.ts';

export interface DhcpSettings {
  leaseTimeS: number;
  /** Where dnsmasq asks PowerDNS (on this node). */
  pdns: { address: string; port: number };
  /** Every zone PowerDNS serves (see dns-zones.ts servedZones). */
  servedZones: readonly string[];
  /** The cluster's upstream resolvers (cluster network settings). */
  upstreamResolvers: readonly string[];
  logDhcp: boolean;
}

/** What dnsmasq of `network` is rendered from. */
export function dnsmasqInputOf(network: ManagedNetwork, settings: DhcpSettings): DnsmasqInstanceInput {
  const servers = (family: 4 | 6) => network.nameServers.filter((s) => ipFamilyOf(s) === family).map((s) => canonicalIp(s) ?? s);
  const v4 = network.ipv4;
  const v4Subnet = v4 ? parseIpv4Cidr(v4.subnet) : null;
  const v6 = network.ipv6;
  const v6Subnet = v6 ? parseIpv6Cidr(v6.subnet) : null;
  return {
    network: network.name,
    interface: bridgeNameOf(network),
    domain: network.domain,
    mtu: network.mtu,
    ipv4:
      v4 && v4Subnet
        ? {
            gateway: v4.gateway,
            netmask: formatIpv4(ipv4Mask(v4Subnet.prefixLength)),
            range: v4.dhcp.enabled && v4.dhcp.start !== null && v4.dhcp.end !== null ? { start: v4.dhcp.start, end: v4.dhcp.end } : null,
            // The network's own name servers when it lists some; else the gateway, i.e. this dnsmasq.
            dnsServers: servers(4).length > 0 ? servers(4) : [v4.gateway],
          }
        : null,
    ipv6:
      v6 && v6Subnet
        ? {
            prefixLength: v6Subnet.prefixLength,
            routerAdvertisements: ipv6SendsRouterAdvertisements(v6Subnet.prefixLength),
            dhcp: v6.dhcp.enabled,
            dnsServers: servers(6).length > 0 ? servers(6) : [v6.gateway],
          }
        : null,
    leaseTimeS: settings.leaseTimeS,
    forwardZones: settings.servedZones.map(withoutDot),
    pdns: settings.pdns,
    upstreamResolvers: [...settings.upstreamResolvers],
    logDhcp: settings.logDhcp,
  };
}

export interface DhcpDesired {
  network: string;
  configText: string;
  /** hostsdir file name -> content */
  reservations: ReadonlyMap<string, string>;
}

export interface DhcpObserved {
  network: string;
  configText: string;
  running: boolean;
  reservations: ReadonlyMap<string, string>;
}

export type DhcpAction =
  | {
      kind: 'start';
      network: string;
      configText: string;
      reservations: ReadonlyMap<string, string>;
      /**
       * Write the lease file from ZooKeeper first: the first start of this term, when the file on
       * disk is this node's old view and ZooKeeper holds what the last primary handed out.
       */
      seedFromZk: boolean;
      reason: 'new' | 'config-changed' | 'exited';
    }
  | { kind: 'stop'; network: string }
  | { kind: 'sync-reservations'; network: string; reservations: ReadonlyMap<string, string> };

function sameFiles(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([file, content]) => b.get(file) === content);
}

/** Stops come first (a removed network frees its bridge), then starts and reservation syncs, by network name. */
export function planDhcp(desired: readonly DhcpDesired[], observed: readonly DhcpObserved[], startedThisTerm: ReadonlySet<string>): DhcpAction[] {
  const want = new Map(desired.map((d) => [d.network, d]));
  const have = new Map(observed.map((o) => [o.network, o]));
  const actions: DhcpAction[] = [];
  for (const network of [...have.keys()].sort()) {
    if (!want.has(network)) actions.push({ kind: 'stop', network });
  }
  for (const network of [...want.keys()].sort()) {
    const d = want.get(network) as DhcpDesired;
    const o = have.get(network);
    const start = (reason: 'new' | 'config-changed' | 'exited'): DhcpAction => ({
      kind: 'start',
      network,
      configText: d.configText,
      reservations: d.reservations,
      seedFromZk: !startedThisTerm.has(network),
      reason,
    });
    if (!o) actions.push(start('new'));
    else if (o.configText !== d.configText) actions.push(start('config-changed'));
    else if (!o.running) actions.push(start('exited'));
    else if (!sameFiles(o.reservations, d.reservations)) actions.push({ kind: 'sync-reservations', network, reservations: d.reservations });
  }
  return actions;
}
