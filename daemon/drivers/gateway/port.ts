// The gateway port: the addresses that move with the primary (network gateways, floating IPs),
// each held on a lease of the kernel's own: an address is added with a lifetime (valid_lft) and
// renewed while this node serves, so a primary that dies or freezes without removing it loses it
// when the lifetime runs out. dnsmasq answers neither DHCP nor DNS on a bridge without its
// address, so the lifetime also bounds how long a frozen primary's dnsmasq can serve.
// Adapters: iproute.ts (ip + busybox arping) and sim.ts; test/contract/gateway.contract.ts.
import { PvcError, type PvcErrorCode } from '../../../common/errors.ts';

export interface LinkAddresses {
  name: string;
  /** Global addresses as `address/prefix-length` (link-local and host-scope ones left out). */
  addresses: string[];
}

export interface GatewayDriver {
  listAddresses(): Promise<LinkAddresses[]>;
  /** Adds the address, or renews its lifetime when present: valid for `lifetimeS` from now. */
  lease(device: string, cidr: string, lifetimeS: number): Promise<void>;
  /** Removes the address; an address already gone is not an error. */
  remove(device: string, cidr: string): Promise<void>;
  /** One gratuitous ARP for `ipv4` out of `device`: clients that cached another MAC take this node's. */
  announce(device: string, ipv4: string): Promise<void>;
  /**
   * One ARP request from `sourceIpv4` to `targetIpv4`; true when answered. A client that receives
   * it takes this node's MAC for the source address: unlike a gratuitous ARP, which EVPN's
   * neighbour suppression keeps off the VXLAN, a request reaches clients on other nodes.
   */
  askNeighbour(device: string, sourceIpv4: string, targetIpv4: string): Promise<boolean>;
  /**
   * Empties this node's neighbour (ARP) cache on `device`. With neighbour suppression, a bridge
   * answers its own ARP request from that cache instead of sending it: emptied, the request goes
   * out to the client.
   */
  forgetNeighbours(device: string): Promise<void>;
}

export type GatewayErrorKind = 'not-found' | 'invalid' | 'timeout' | 'failed';
const CODES: Record<GatewayErrorKind, PvcErrorCode> = { 'not-found': 'not-found', invalid: 'bad-input', timeout: 'timeout', failed: 'refused' };

export class GatewayError extends PvcError {
  constructor(
    readonly kind: GatewayErrorKind,
    readonly device: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(CODES[kind], `gateway address on ${JSON.stringify(device)}: ${detail}`, options);
    this.name = 'GatewayError';
  }
}

const DEVICE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;
/** The kernel takes lifetimes in whole seconds; 0 would mean "expired". */
export const MIN_ADDRESS_LIFETIME_S = 1;

/** Both adapters refuse the same arguments before anything runs. */
export function assertGatewayArgs(device: string, cidr: string | null, ipv4: string | null = null, lifetimeS: number | null = null): void {
  if (!DEVICE.test(device)) throw new GatewayError('invalid', device, 'invalid interface name');
  if (cidr !== null && !/^[0-9a-f.:]+\/\d{1,3}$/.test(cidr)) throw new GatewayError('invalid', device, `invalid address ${JSON.stringify(cidr)}: use address/prefix-length`);
  if (ipv4 !== null && !IPV4.test(ipv4)) throw new GatewayError('invalid', device, `${JSON.stringify(ipv4)} is not an ipv4 address`);
  if (lifetimeS !== null && (!Number.isInteger(lifetimeS) || lifetimeS < MIN_ADDRESS_LIFETIME_S)) {
    throw new GatewayError('invalid', device, `lifetime ${lifetimeS} s: use a whole number of seconds >= ${MIN_ADDRESS_LIFETIME_S}`);
  }
}
