// IPv4 address and subnet arithmetic on unsigned 32-bit numbers. Pure; no IO.
// Only the strict dotted-quad form is accepted (no leading zeros, no shorthand such as
// "10.1"), so that one address has one spelling and equal strings mean equal addresses.

export const IPV4_BITS = 32;
const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** The address as an unsigned 32-bit number, or null when `text` is not a dotted quad. */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== null;
}

/** The netmask of a prefix length, e.g. 24 -> 255.255.255.0 (as a number). */
export function ipv4Mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (IPV4_BITS - prefixLength)) >>> 0;
}

export interface Ipv4Cidr {
  /** The address as written before the slash (may have host bits set). */
  address: number;
  prefixLength: number;
  /** The first address of the subnet (host bits cleared). */
  network: number;
  /** The last address of the subnet (host bits set). */
  broadcast: number;
}

/** Parses `a.b.c.d/len`; null when it is not one. Host bits may be set (see isIpv4Network). */
export function parseIpv4Cidr(text: string): Ipv4Cidr | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseIpv4(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (address === null || !/^(0|[1-9][0-9]?)$/.test(lengthText)) return null;
  const prefixLength = Number(lengthText);
  if (prefixLength > IPV4_BITS) return null;
  const mask = ipv4Mask(prefixLength);
  const network = (address & mask) >>> 0;
  return { address, prefixLength, network, broadcast: (network | ~mask) >>> 0 };
}

export function formatIpv4Cidr(cidr: Pick<Ipv4Cidr, 'network' | 'prefixLength'>): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefixLength}`;
}

/** True when the text is a subnet written with its network address (no host bits set). */
export function isIpv4Network(cidr: Ipv4Cidr): boolean {
  return cidr.address === cidr.network;
}

export function ipv4InSubnet(address: number, subnet: Ipv4Cidr): boolean {
  return address >= subnet.network && address <= subnet.broadcast;
}

/** Two subnets overlap when either holds the other's network address. */
export function ipv4SubnetsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast;
}

/** How many addresses the subnet spans, network and broadcast included. */
export function ipv4SubnetSize(subnet: Ipv4Cidr): number {
  return subnet.broadcast - subnet.network + 1;
}
