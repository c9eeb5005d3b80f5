// `pvc cluster network show|set`: the cluster-wide network settings (the AS of the cluster's
// iBGP EVPN, upstream BGP peers, floating IPs that move with the primary, the cluster's DNS
// zone, the upstream resolvers of the networks' DNS). One document, changed by compare-and-set; a change that names a peer or address wrongly
// (adding one that is there, removing one that is not) is refused and nothing is written.
import { PvcError } from '../errors.ts';
import { canonicalIp, parseAnyCidr } from '../net/ip.ts';
import { ClusterNetworkDoc, defaultClusterNetwork, type ClusterNetwork, type FloatingIp, type UpstreamPeer } from '../zk/schema.ts';
import { SKIP } from '../zk/store.ts';
import { readClusterNetwork, type NetworkTarget } from './network-read.ts';
import { parseOrRefuse } from './network-validate.ts';

export interface ClusterNetworkChanges {
  asn?: number;
  dnsZone?: string;
  addPeers?: UpstreamPeer[];
  /** Peer addresses. */
  removePeers?: string[];
  addFloatingIps?: FloatingIp[];
  /** Addresses, with or without their prefix length. */
  removeFloatingIps?: string[];
  /** The whole list, replacing the old one ([] clears it). */
  upstreamResolvers?: string[];
}

export function getClusterNetwork(target: NetworkTarget): Promise<ClusterNetwork> {
  return readClusterNetwork(target);
}

function addressOf(floating: string): string {
  const slash = floating.indexOf('/');
  const address = slash < 0 ? floating : floating.slice(0, slash);
  return canonicalIp(address) ?? address;
}

/** The settings with `changes` applied, checked; refused naming the wrong value. Pure. */
export function applyClusterNetworkChanges(current: ClusterNetwork, changes: ClusterNetworkChanges): ClusterNetwork {
  let peers = [...current.upstreamPeers];
  for (const text of changes.removePeers ?? []) {
    const address = canonicalIp(text) ?? text;
    if (!peers.some((p) => p.address === address)) throw new PvcError('bad-input', `no upstream peer ${JSON.stringify(text)} to remove`);
    peers = peers.filter((p) => p.address !== address);
  }
  for (const peer of changes.addPeers ?? []) {
    const address = canonicalIp(peer.address) ?? peer.address;
    if (peers.some((p) => p.address === address)) throw new PvcError('bad-input', `upstream peer ${address} is already configured; remove it first to change it`);
    peers.push({ address, asn: peer.asn });
  }
  let floating = [...current.floatingIps];
  for (const text of changes.removeFloatingIps ?? []) {
    const address = addressOf(text);
    if (!floating.some((f) => addressOf(f.address) === address)) throw new PvcError('bad-input', `no floating ip ${JSON.stringify(text)} to remove`);
    floating = floating.filter((f) => addressOf(f.address) !== address);
  }
  for (const ip of changes.addFloatingIps ?? []) {
    const address = parseAnyCidr(ip.address)?.interfaceForm ?? ip.address;
    if (floating.some((f) => addressOf(f.address) === addressOf(address))) throw new PvcError('bad-input', `floating ip ${addressOf(address)} is already configured; remove it first to change it`);
    floating.push({ address, device: ip.device });
  }
  const resolvers = changes.upstreamResolvers?.map((text) => canonicalIp(text) ?? text) ?? current.upstreamResolvers;
  const next = { asn: changes.asn ?? current.asn, upstreamPeers: peers, floatingIps: floating, dnsZone: changes.dnsZone ?? current.dnsZone, upstreamResolvers: resolvers };
  return parseOrRefuse(ClusterNetworkDoc, next, 'cluster network settings');
}

export async function setClusterNetwork(target: NetworkTarget, changes: ClusterNetworkChanges): Promise<{ changed: boolean; settings: ClusterNetwork }> {
  let changed = false;
  const written = await target.store.update(target.layout.clusterNetwork(), (current) => {
    const base = current ?? defaultClusterNetwork(target.layout.cluster);
    const next = applyClusterNetworkChanges(base, changes);
    changed = current === undefined || JSON.stringify(next) !== JSON.stringify(current);
    return changed ? next : SKIP;
  });
  return { changed, settings: written ?? (await readClusterNetwork(target)) };
}
