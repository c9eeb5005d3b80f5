// The gateway planner: the addresses that move with the primary (each managed network's gateway
// on its bridge, the cluster's floating IPs on their devices) and the changes that bring this
// node's links there. Pure.
//
// What is whose: every global address on the bridge of a managed network belongs to the primary's
// gateway (nodes that are not primary have the bridge without it), so one that is not wanted
// (a changed gateway) is removed. On other devices (the underlay) only addresses this term added
// are removed, so that the node's own addresses are never touched.
import { parseAnyCidr } from '../../common/net/ip.ts';
import { bridgeNameOf, type ClusterNetwork, type ManagedNetwork } from '../../common/zk/schema.ts';

export interface GatewayAddress {
  device: string;
  /** `address/prefix-length`, as `ip -json addr` writes it. */
  cidr: string;
  /** IPv4 addresses are announced with a gratuitous ARP, so clients forget the old primary's MAC. */
  announce: boolean;
  /**
   * The managed network whose gateway this is (null: a floating IP). Its known clients (leases,
   * reservations) are each asked by an ARP request from the gateway address when this node takes
   * it: EVPN's neighbour suppression keeps gratuitous ARP off the VXLAN, a request reaches them,
   * and they take this node's MAC for the gateway.
   */
  network: string | null;
}

export interface DesiredGateways {
  addresses: GatewayAddress[];
  /** Bridges whose global addresses are all the gateway's. */
  gatewayBridges: string[];
  /** Floating IPs that cannot be placed, with why. */
  problems: string[];
}

export interface ObservedLink {
  name: string;
  addresses: readonly string[];
}

export type GatewayAction =
  | { kind: 'add'; address: GatewayAddress }
  | { kind: 'remove'; device: string; cidr: string }
  | { kind: 'wait-for-device'; device: string; cidr: string };

const addressKey = (device: string, cidr: string): string => `${device} ${cidr}`;

function interfaceForm(address: string, prefixLength: string | number): string {
  return `${address}/${prefixLength}`;
}

export function desiredGateways(networks: readonly ManagedNetwork[], cluster: ClusterNetwork, floatingIpDevice: string | null): DesiredGateways {
  const addresses: GatewayAddress[] = [];
  const gatewayBridges: string[] = [];
  const problems: string[] = [];
  for (const network of [...networks].sort((a, b) => a.name.localeCompare(b.name))) {
    const bridge = bridgeNameOf(network);
    gatewayBridges.push(bridge);
    if (network.ipv4) addresses.push({ device: bridge, cidr: interfaceForm(network.ipv4.gateway, network.ipv4.subnet.split('/')[1] ?? '32'), announce: true, network: network.name });
    if (network.ipv6) addresses.push({ device: bridge, cidr: interfaceForm(network.ipv6.gateway, network.ipv6.subnet.split('/')[1] ?? '128'), announce: false, network: network.name });
  }
  for (const floating of cluster.floatingIps) {
    const device = floating.device ?? floatingIpDevice;
    const parsed = parseAnyCidr(floating.address);
    if (device === null) {
      problems.push(`floating ip ${floating.address} names no device and this node has no default (services.floatingIpDevice)`);
      continue;
    }
    if (!parsed) {
      problems.push(`floating ip ${floating.address} is not an address with a prefix length`);
      continue;
    }
    addresses.push({ device, cidr: parsed.interfaceForm, announce: parsed.family === 4, network: null });
  }
  return { addresses, gatewayBridges, problems };
}

/**
 * Adds what is missing (or waits while its device does not exist yet: the node's link
 * reconciler creates the bridges), removes what is no longer wanted: any global address on a
 * gateway bridge, and addresses this term added (`owned`) elsewhere.
 */
export function planGateways(desired: DesiredGateways, observed: readonly ObservedLink[], owned: ReadonlySet<string>): GatewayAction[] {
  const links = new Map(observed.map((l) => [l.name, new Set(l.addresses)]));
  const wanted = new Set(desired.addresses.map((a) => addressKey(a.device, a.cidr)));
  const bridges = new Set(desired.gatewayBridges);
  const actions: GatewayAction[] = [];
  for (const link of [...observed].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const cidr of link.addresses) {
      const key = addressKey(link.name, cidr);
      if (wanted.has(key)) continue;
      if (bridges.has(link.name) || owned.has(key)) actions.push({ kind: 'remove', device: link.name, cidr });
    }
  }
  for (const address of desired.addresses) {
    const present = links.get(address.device);
    if (!present) actions.push({ kind: 'wait-for-device', device: address.device, cidr: address.cidr });
    else if (!present.has(address.cidr)) actions.push({ kind: 'add', address });
  }
  return actions;
}

/** Every address to take away when the primary steps down: the wanted ones and those it added. */
export function releaseGateways(desired: DesiredGateways | null, observed: readonly ObservedLink[], owned: ReadonlySet<string>): Array<{ device: string; cidr: string }> {
  const mine = new Set([...owned, ...(desired?.addresses.map((a) => addressKey(a.device, a.cidr)) ?? [])]);
  const bridges = new Set(desired?.gatewayBridges ?? []);
  const out: Array<{ device: string; cidr: string }> = [];
  for (const link of observed) {
    for (const cidr of link.addresses) {
      if (mine.has(addressKey(link.name, cidr)) || bridges.has(link.name)) out.push({ device: link.name, cidr });
    }
  }
  return out;
}

export { addressKey };
