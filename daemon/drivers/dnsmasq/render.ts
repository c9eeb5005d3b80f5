// Pure renderers of the files one dnsmasq instance reads: its config (templates/dnsmasq/
// dnsmasq.conf.hbs), one dhcp-hostsdir file per reservation, and the lease file it starts with.
// Same input, same bytes: the runnable compares rendered text to decide on a restart.
import { renderTemplate } from '../../../common/templates.ts';
import { macKey } from '../../../common/net/mac.ts';
import type { DhcpLease, DhcpReservation } from '../../../common/zk/schema.ts';

/** Where one instance keeps its files; all under one folder per network. */
export interface DnsmasqPaths {
  dir: string;
  configFile: string;
  pidFile: string;
  logFile: string;
  leaseFile: string;
  /** The dhcp-script: daemon/drivers/dnsmasq/lease-hook.sh, a fixed file of the repository. */
  hookScript: string;
  /** dhcp-hostsdir: one file per reservation, read by dnsmasq through inotify. */
  hostsDir: string;
  /** The hook leaves one file per lease event here (see lease-hook.sh). */
  spoolDir: string;
}

export interface DnsmasqInstanceInput {
  network: string;
  /** The network's bridge, vmbr<vni>; dnsmasq binds to it alone. */
  interface: string;
  domain: string;
  mtu: number | null;
  ipv4: {
    gateway: string;
    netmask: string;
    /** null: DHCP for IPv4 is off (the network still gets DNS at the gateway). */
    range: { start: string; end: string } | null;
    /** DHCP option 6: the network's name servers, or its gateway when it lists none. */
    dnsServers: string[];
  } | null;
  ipv6: {
    prefixLength: number;
    /**
     * Router advertisements (SLAAC) on the bridge, and with them DHCPv6 when `dhcp` is on; false:
     * no IPv6 range at all (the subnet is not a /64, which dnsmasq would refuse).
     */
    routerAdvertisements: boolean;
    dhcp: boolean;
    /** Handed out in the advertisements (and by DHCPv6): the network's name servers, or its gateway. */
    dnsServers: string[];
  } | null;
  leaseTimeS: number;
  /** Zones whose names dnsmasq asks PowerDNS for (every network domain, the cluster zone, reverse zones). */
  forwardZones: string[];
  pdns: { address: string; port: number };
  /** Where every other name goes (the cluster's upstream resolvers); empty: nowhere. */
  upstreamResolvers: string[];
  logDhcp: boolean;
}

export function renderDnsmasqConfig(input: DnsmasqInstanceInput, paths: DnsmasqPaths): string {
  return renderTemplate('dnsmasq/dnsmasq.conf', {
    network: input.network,
    interface: input.interface,
    domain: input.domain,
    mtu: input.mtu,
    paths,
    logDhcp: input.logDhcp,
    leaseTimeS: input.leaseTimeS,
    ipv4: input.ipv4 && { ...input.ipv4, dnsServers: input.ipv4.dnsServers.join(',') },
    ipv6: input.ipv6 && {
      prefixLength: input.ipv6.prefixLength,
      // SLAAC either way; with DHCP on, stateless DHCPv6 also hands out the DNS settings.
      // null: no range (a subnet that is not a /64 would fail the whole config).
      mode: input.ipv6.routerAdvertisements ? (input.ipv6.dhcp ? 'ra-stateless' : 'ra-only') : null,
      dnsServers: input.ipv6.dnsServers.map((a) => `[${a}]`).join(','),
    },
    forward: [...input.forwardZones].sort(),
    pdns: input.pdns,
    upstream: input.upstreamResolvers,
  });
}

/** The hostsdir file of a reservation is named by the MAC's 12 hex digits. */
export function reservationFileName(mac: string): string {
  return macKey(mac);
}

/**
 * dhcp-host syntax, `mac,ip`: without the host name, which PowerDNS serves (a name here would be
 * answered by dnsmasq itself, unqualified).
 */
export function reservationLine(reservation: DhcpReservation): string {
  return `${reservation.mac},${reservation.ipv4}\n`;
}

/** The hostsdir as it should be: file name -> content. */
export function reservationFiles(reservations: readonly DhcpReservation[]): Map<string, string> {
  return new Map(reservations.map((r) => [reservationFileName(r.mac), reservationLine(r)]));
}

/**
 * dnsmasq's lease file (`expiry mac ip hostname client-id`, `*` for none, expiry 0 for an
 * infinite lease), written from ZooKeeper before a new primary's dnsmasq starts, so that it knows
 * every lease the previous primary handed out and neither reuses those addresses nor refuses
 * their renewals. Without host names: dnsmasq would answer names read from this file itself.
 */
export function leaseFileText(leases: readonly DhcpLease[]): string {
  return [...leases]
    .sort((a, b) => a.mac.localeCompare(b.mac))
    .map((l) => `${l.expiresAtS} ${l.mac} ${l.ipv4} * *\n`)
    .join('');
}
