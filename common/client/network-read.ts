// Reads of networks and what hangs under them (reservations, leases, ACLs), shared by the CLI,
// the API and the writers here, which read with versions to compare-and-set on what they judged.
import { PvcError } from '../errors.ts';
import { assertName, isValidName } from '../names.ts';
import { macFromKey } from '../net/mac.ts';
import { defaultClusterNetwork, type ClusterNetwork, type DhcpLease, type DhcpReservation, type NetworkAcl, type NetworkSpec, type ZRef, type ZkLayout } from '../zk/schema.ts';
import type { Versioned, ZkStore } from '../zk/store.ts';

/** More networks than a cluster is built for (each is a bridge on every node). */
export const NETWORKS_MAX = 1_000;
/** dnsmasq reads every reservation into its config; far beyond a real network's. */
export const NETWORK_MAX_RESERVATIONS = 4_096;
/** nftables evaluates the rules in order; more than this is a generated mistake. */
export const NETWORK_MAX_ACLS = 1_000;
/** A /16 holds 65534 hosts; leases past that say the tree is wrong. */
export const NETWORK_MAX_LEASES = 65_536;

/** What every network operation works on: one cluster's tree over one session (a PvcClient is one). */
export interface NetworkTarget {
  readonly store: ZkStore;
  readonly layout: ZkLayout;
}

export async function readNetworkNames(target: NetworkTarget): Promise<string[]> {
  const { store, layout } = target;
  const names = await store.children(layout.networksDir());
  if (names.length > NETWORKS_MAX) throw new PvcError('corrupt', `${layout.networksDir().path} has ${names.length} children, more than the ${NETWORKS_MAX} pvc supports`);
  for (const name of names) {
    if (!isValidName(name)) throw new PvcError('corrupt', `${layout.networksDir().path} holds ${JSON.stringify(name)}, which is not a valid network name`);
  }
  return names.sort();
}

/** Every network's spec with its version, by name; all reads go out at once. */
export async function readAllNetworks(target: NetworkTarget): Promise<Versioned<NetworkSpec>[]> {
  const names = await readNetworkNames(target);
  const specs = await Promise.all(names.map((name) => target.store.get(target.layout.network(name))));
  // A network removed between the listing and its read is simply gone.
  return specs.filter((s): s is Versioned<NetworkSpec> => s !== null);
}

export async function mustReadNetwork(target: NetworkTarget, name: string): Promise<Versioned<NetworkSpec>> {
  assertName('network', name);
  const spec = await target.store.get(target.layout.network(name));
  if (!spec) throw new PvcError('not-found', `network ${name} not found in cluster ${target.layout.cluster}`);
  return spec;
}

/** The MACs named by the children of a reservations or leases folder. */
async function macChildren(target: NetworkTarget, dir: ZRef<unknown>, max: number, what: string): Promise<string[]> {
  const keys = await target.store.children(dir);
  if (keys.length > max) throw new PvcError('corrupt', `${dir.path} has ${keys.length} ${what}, more than the ${max} pvc supports`);
  return keys.map((key) => {
    const mac = macFromKey(key);
    if (!mac) throw new PvcError('corrupt', `${dir.path} holds ${JSON.stringify(key)}, which is not a mac address as 12 hex digits`);
    return mac;
  });
}

export async function readReservations(target: NetworkTarget, network: string): Promise<Versioned<DhcpReservation>[]> {
  const { store, layout } = target;
  const macs = await macChildren(target, layout.networkReservationsDir(network), NETWORK_MAX_RESERVATIONS, 'reservations');
  const found = await Promise.all(macs.map((mac) => store.get(layout.networkReservation(network, mac))));
  return found.filter((r): r is Versioned<DhcpReservation> => r !== null);
}

export async function readLeases(target: NetworkTarget, network: string): Promise<DhcpLease[]> {
  const { store, layout } = target;
  const macs = await macChildren(target, layout.networkLeasesDir(network), NETWORK_MAX_LEASES, 'leases');
  const found = await Promise.all(macs.map((mac) => store.get(layout.networkLease(network, mac))));
  return found.flatMap((l) => (l ? [l.value] : []));
}

export interface NamedAcl {
  name: string;
  acl: NetworkAcl;
}

export async function readAcls(target: NetworkTarget, network: string): Promise<NamedAcl[]> {
  const { store, layout } = target;
  const names = await store.children(layout.networkAclsDir(network));
  if (names.length > NETWORK_MAX_ACLS) throw new PvcError('corrupt', `${layout.networkAclsDir(network).path} has ${names.length} acls, more than the ${NETWORK_MAX_ACLS} pvc supports`);
  const found = await Promise.all(
    names.map(async (name) => {
      if (!isValidName(name)) throw new PvcError('corrupt', `${layout.networkAclsDir(network).path} holds ${JSON.stringify(name)}, which is not a valid acl name`);
      const acl = await store.get(layout.networkAcl(network, name));
      return acl ? { name, acl: acl.value } : null;
    }),
  );
  return found.filter((a): a is NamedAcl => a !== null);
}

/** The cluster's network settings; the defaults when a tree has none yet. */
export async function readClusterNetwork(target: NetworkTarget): Promise<ClusterNetwork> {
  const found = await target.store.get(target.layout.clusterNetwork());
  return found?.value ?? defaultClusterNetwork(target.layout.cluster);
}
