// IPv6 address and subnet arithmetic on 128-bit bigints. Pure; no IO.
// Any RFC 4291 text form is parsed (including "::" and a dotted IPv4 tail); formatIpv6 writes
// the RFC 5952 canonical form, which is what pvc stores, so equal strings mean equal addresses.
import { parseIpv4 } from './ipv4.ts';

export const IPV6_BITS = 128;
const GROUPS = 8;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;
const ALL_ONES = (1n << 128n) - 1n;

/** The address as a 128-bit bigint, or null when `text` is not an IPv6 address. */
export function parseIpv6(text: string): bigint | null {
  if (text.length === 0 || text.length > 45 || text.includes('%')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups: number[] = [];
  const read = (parts: string[], isLast: boolean): number[] | null => {
    const out: number[] = [];
    for (let i = 0; i < parts.length; i += 1) {
      const part = parts[i] as string;
      if (isLast && i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (HEXTET.test(part)) out.push(parseInt(part, 16));
      else return null;
    }
    return out;
  };
  const headGroups = read(head, halves.length === 1);
  const tailGroups = read(tail, true);
  if (!headGroups || !tailGroups) return null;
  if (halves.length === 1) {
    if (headGroups.length !== GROUPS) return null;
    groups.push(...headGroups);
  } else {
    const missing = GROUPS - headGroups.length - tailGroups.length;
    // "::" stands for at least one zero group.
    if (missing < 1) return null;
    groups.push(...headGroups, ...new Array<number>(missing).fill(0), ...tailGroups);
  }
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** RFC 5952: lowercase, no leading zeros, the longest run (2+) of zero groups as "::". */
export function formatIpv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = GROUPS - 1; i >= 0; i -= 1) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < GROUPS; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < GROUPS && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function isIpv6(text: string): boolean {
  return parseIpv6(text) !== null;
}

/** The canonical spelling of an IPv6 address, or null when it is not one. */
export function canonicalIpv6(text: string): string | null {
  const value = parseIpv6(text);
  return value === null ? null : formatIpv6(value);
}

export function ipv6Mask(prefixLength: number): bigint {
  return prefixLength === 0 ? 0n : (ALL_ONES << BigInt(IPV6_BITS - prefixLength)) & ALL_ONES;
}

export interface Ipv6Cidr {
  address: bigint;
  prefixLength: number;
  network: bigint;
  /** The last address of the subnet (IPv6 has no broadcast; named so for symmetry with IPv4). */
  last: bigint;
}

export function parseIpv6Cidr(text: string): Ipv6Cidr | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseIpv6(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (address === null || !/^(0|[1-9][0-9]{0,2})$/.test(lengthText)) return null;
  const prefixLength = Number(lengthText);
  if (prefixLength > IPV6_BITS) return null;
  const mask = ipv6Mask(prefixLength);
  const network = address & mask;
  return { address, prefixLength, network, last: network | (ALL_ONES ^ mask) };
}

export function formatIpv6Cidr(cidr: Pick<Ipv6Cidr, 'network' | 'prefixLength'>): string {
  return `${formatIpv6(cidr.network)}/${cidr.prefixLength}`;
}

export function isIpv6Network(cidr: Ipv6Cidr): boolean {
  return cidr.address === cidr.network;
}

export function ipv6InSubnet(address: bigint, subnet: Ipv6Cidr): boolean {
  return address >= subnet.network && address <= subnet.last;
}

export function ipv6SubnetsOverlap(a: Ipv6Cidr, b: Ipv6Cidr): boolean {
  return a.network <= b.last && b.network <= a.last;
}
