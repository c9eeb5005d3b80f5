// Family-neutral helpers over ipv4.ts and ipv6.ts, for values that may be either (name
// servers, ACL sources, BGP peers, floating addresses). pvc stores the canonical spelling only:
// the dotted quad for IPv4 and RFC 5952 for IPv6.
import { formatIpv4Cidr, isIpv4Network, parseIpv4, parseIpv4Cidr } from './ipv4.ts';
import { canonicalIpv6, formatIpv6, formatIpv6Cidr, isIpv6Network, parseIpv6Cidr } from './ipv6.ts';

export type IpFamily = 4 | 6;

/** The canonical spelling of an address of either family, or null when it is not one. */
export function canonicalIp(text: string): string | null {
  if (parseIpv4(text) !== null) return text;
  return canonicalIpv6(text);
}

/** 4 or 6 for an address in canonical form; null otherwise. */
export function ipFamilyOf(text: string): IpFamily | null {
  if (parseIpv4(text) !== null) return 4;
  return canonicalIpv6(text) === text ? 6 : null;
}

export interface CanonicalCidr {
  family: IpFamily;
  /** `address/len` with the address as written (host bits kept), canonically spelled. */
  interfaceForm: string;
  /** `network/len`: host bits cleared. */
  networkForm: string;
  /** True when the text named the network itself (no host bits set). */
  isNetwork: boolean;
}

/** Parses `address/len` of either family; null when it is not one. */
export function parseAnyCidr(text: string): CanonicalCidr | null {
  const v4 = parseIpv4Cidr(text);
  if (v4) return { family: 4, interfaceForm: text, networkForm: formatIpv4Cidr(v4), isNetwork: isIpv4Network(v4) };
  const v6 = parseIpv6Cidr(text);
  if (!v6) return null;
  return { family: 6, interfaceForm: `${formatIpv6(v6.address)}/${v6.prefixLength}`, networkForm: formatIpv6Cidr(v6), isNetwork: isIpv6Network(v6) };
}

/** The canonical `network/len` of a subnet, or null when `text` is not a subnet written with its network address. */
export function canonicalNetwork(text: string): string | null {
  const cidr = parseAnyCidr(text);
  return cidr?.isNetwork ? cidr.networkForm : null;
}
