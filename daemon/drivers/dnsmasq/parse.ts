// Pure parsers of what dnsmasq leaves behind: the lease events the hook (lease-hook.sh) spools,
// one line each, and dnsmasq's own lease file. Tested on captured files
// (test/unit/fixtures/dnsmasq/).
import { isIpv4 } from '../../../common/net/ipv4.ts';
import { normalizeMac } from '../../../common/net/mac.ts';

export const LEASE_ACTIONS = ['add', 'old', 'del'] as const;
export type LeaseAction = (typeof LEASE_ACTIONS)[number];

/** One lease event: what dnsmasq told its dhcp-script, with the lease's end. */
export interface LeaseEvent {
  action: LeaseAction;
  mac: string;
  ipv4: string;
  /** Unix time the lease ends (DNSMASQ_LEASE_EXPIRES); 0: never. */
  expiresAtS: number;
  /** The client's host name when it gave a valid one; null otherwise. */
  hostname: string | null;
}

/** What pvc keeps of a client's host name: one DNS label (dnsmasq already strips any domain). */
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function hostnameOf(text: string | undefined): string | null {
  return text !== undefined && HOSTNAME.test(text) ? text : null;
}

function expiryOf(text: string | undefined): number | null {
  return text !== undefined && /^(0|[1-9][0-9]{0,11})$/.test(text) ? Number(text) : null;
}

/**
 * `action mac ip expires [hostname]` as lease-hook.sh writes it. Throws naming the fault for a
 * line that is not one (an IPv6 lease carries a DUID, not a MAC, and is refused here).
 */
export function parseLeaseEvent(text: string): LeaseEvent {
  const line = text.endsWith('\n') ? text.slice(0, -1) : text;
  const fields = line.split(' ');
  const [action, macText, ipv4, expires, hostname] = fields;
  if (!LEASE_ACTIONS.includes(action as LeaseAction)) throw new Error(`lease event ${JSON.stringify(line)}: unknown action ${JSON.stringify(action)}`);
  const mac = normalizeMac(macText ?? '');
  if (mac === null) throw new Error(`lease event ${JSON.stringify(line)}: ${JSON.stringify(macText)} is not a unicast ethernet mac`);
  if (ipv4 === undefined || !isIpv4(ipv4)) throw new Error(`lease event ${JSON.stringify(line)}: ${JSON.stringify(ipv4)} is not an ipv4 address`);
  const expiresAtS = expiryOf(expires);
  if (expiresAtS === null) throw new Error(`lease event ${JSON.stringify(line)}: ${JSON.stringify(expires)} is not a lease end time`);
  if (fields.length > 5) throw new Error(`lease event ${JSON.stringify(line)}: too many fields`);
  return { action: action as LeaseAction, mac, ipv4, expiresAtS, hostname: hostnameOf(hostname || undefined) };
}

export interface LeaseFileEntry {
  expiresAtS: number;
  mac: string;
  ipv4: string;
  hostname: string | null;
}

/**
 * dnsmasq's lease file: `expiry mac ip hostname client-id` per line (`*` for none). IPv6 lines
 * (after a `duid` line) and lines that are not ethernet IPv4 leases are skipped.
 */
export function parseLeaseFile(text: string): LeaseFileEntry[] {
  const entries: LeaseFileEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('duid ')) break; // what follows are DHCPv6 leases
    const [expires, macText, ipv4, hostname] = line.split(' ');
    const expiresAtS = expiryOf(expires);
    const mac = normalizeMac(macText ?? '');
    if (expiresAtS === null || mac === null || ipv4 === undefined || !isIpv4(ipv4)) continue;
    entries.push({ expiresAtS, mac, ipv4, hostname: hostname === '*' ? null : hostnameOf(hostname) });
  }
  return entries;
}
