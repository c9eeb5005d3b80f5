// `network add|modify|remove`. Rules that span networks (a VNI or bridge in use, overlapping
// subnets) are judged on a read of every network, so two clients must not both pass a check that
// only one of them would: every write of a network spec also sets the networks folder (to `{}`)
// with the version read before the networks were, in the same multi-op. Any network change since
// that read makes the multi fail, and the writer reads and judges again.
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import { macFromKey } from '../net/mac.ts';
import type { NetworkSpec, ZkLayout } from '../zk/schema.ts';
import { isZkError, type Versioned, type ZkStore } from '../zk/store.ts';
import { readVmNames } from './vm-read.ts';
import { applyNetworkPatch, networkSpecFromDraft } from './network-draft.ts';
import { mustReadNetwork, readAllNetworks, readClusterNetwork, readReservations, type NetworkTarget } from './network-read.ts';
import { networkConflict, reservationsMisfit } from './network-validate.ts';

/** Reads and writes retried when another client changed the networks in between. */
export const NETWORK_WRITE_MAX_ATTEMPTS = 16;
/** Ops in one removal multi; ZooKeeper refuses a request over jute.maxbuffer (1 MiB). */
export const REMOVE_MULTI_MAX_OPS = 2_000;
/** VMs named in a refusal; the rest are counted. */
const SHOWN_USERS_MAX = 5;

export interface NetworkWriteResult {
  name: string;
  changed: boolean;
  spec: NetworkSpec;
}

/** Thrown inside an attempt when another client got there first; the attempt runs again. */
function raced(error: unknown): boolean {
  return isZkError(error, 'BAD_VERSION') || isZkError(error, 'NO_NODE') || isZkError(error, 'NOT_EMPTY') || isZkError(error, 'NODE_EXISTS');
}

async function networksGuard(store: ZkStore, layout: ZkLayout): Promise<number> {
  const dir = await store.stat(layout.networksDir());
  if (!dir) throw new PvcError('refused', `cluster ${layout.cluster} has no networks folder (${layout.networksDir().path}): start a pvcd of this version once to migrate its schema`);
  return dir.version;
}

function refuseConflict(spec: NetworkSpec, others: readonly Versioned<NetworkSpec>[]): void {
  const conflict = networkConflict(spec, others.map((o) => o.value));
  if (conflict) throw new PvcError('refused', `network ${spec.name}: ${conflict}`);
}

/** Adds a network from a draft (see network-draft.ts); refused when the name is taken or it conflicts. */
export async function addNetwork(target: NetworkTarget, draft: unknown): Promise<NetworkWriteResult> {
  const { store, layout } = target;
  const spec = networkSpecFromDraft(draft, (await readClusterNetwork(target)).dnsZone);
  for (let attempt = 1; attempt <= NETWORK_WRITE_MAX_ATTEMPTS; attempt += 1) {
    const guard = await networksGuard(store, layout);
    const all = await readAllNetworks(target);
    if (all.some((n) => n.value.name === spec.name)) throw new PvcError('refused', `network ${spec.name} already exists in cluster ${layout.cluster}`);
    refuseConflict(spec, all);
    const tx = store.transaction().set(layout.networksDir(), {}, guard).create(layout.network(spec.name), spec);
    for (const dir of layout.networkDirectories(spec.name)) tx.create(dir, {});
    try {
      await tx.commit();
      return { name: spec.name, changed: true, spec };
    } catch (error) {
      if (!raced(error)) throw error;
    }
  }
  throw new PvcError('conflict', `gave up adding network ${spec.name}: the networks changed ${NETWORK_WRITE_MAX_ATTEMPTS} times while adding`);
}

/** Applies a patch (see network-draft.ts) by compare-and-set; nothing is written when nothing changes. */
export async function modifyNetwork(target: NetworkTarget, name: string, patch: unknown): Promise<NetworkWriteResult> {
  const { store, layout } = target;
  assertName('network', name);
  for (let attempt = 1; attempt <= NETWORK_WRITE_MAX_ATTEMPTS; attempt += 1) {
    const guard = await networksGuard(store, layout);
    const current = await mustReadNetwork(target, name);
    const next = applyNetworkPatch(current.value, patch);
    if (JSON.stringify(next) === JSON.stringify(current.value)) return { name, changed: false, spec: current.value };
    refuseConflict(next, await readAllNetworks(target));
    // Reservation adds set this folder, so a reservation added meanwhile is judged too.
    const reservationsDir = await store.stat(layout.networkReservationsDir(name));
    const misfit = reservationsMisfit(next, (await readReservations(target, name)).map((r) => r.value));
    if (misfit) throw new PvcError('refused', `network ${name}: ${misfit}`);
    const tx = store.transaction().set(layout.networksDir(), {}, guard).set(layout.network(name), next, current.version);
    tx.check(layout.networkReservationsDir(name), reservationsDir?.version ?? -1);
    try {
      await tx.commit();
      return { name, changed: true, spec: next };
    } catch (error) {
      if (!raced(error)) throw error;
    }
  }
  throw new PvcError('conflict', `gave up modifying network ${name}: it changed ${NETWORK_WRITE_MAX_ATTEMPTS} times while modifying`);
}

/** The VMs (and their NICs' MACs) whose NICs are on `network`. */
export async function networkUsers(target: NetworkTarget, network: string): Promise<Array<{ vm: string; macs: string[] }>> {
  const names = await readVmNames(target.store, target.layout);
  const specs = await Promise.all(names.map((name) => target.store.get(target.layout.vm(name))));
  return specs.flatMap((spec) => {
    const macs = spec?.value.nics.filter((nic) => nic.network === network).map((nic) => nic.mac) ?? [];
    return spec && macs.length > 0 ? [{ vm: spec.value.name, macs }] : [];
  });
}

export interface NetworkRemoveResult {
  name: string;
  removedReservations: number;
  removedAcls: number;
}

/**
 * Removes a network no VM NIC uses, with its reservations, leases and ACLs, in one multi-op.
 * A VM defined with a NIC on the network while this runs is not seen (VM specs are not part of
 * the multi); its node then reports that the network has no bridge.
 */
export async function removeNetwork(target: NetworkTarget, name: string): Promise<NetworkRemoveResult> {
  const { store, layout } = target;
  assertName('network', name);
  for (let attempt = 1; attempt <= NETWORK_WRITE_MAX_ATTEMPTS; attempt += 1) {
    const guard = await networksGuard(store, layout);
    const spec = await mustReadNetwork(target, name);
    const users = await networkUsers(target, name);
    if (users.length > 0) {
      const shown = users.slice(0, SHOWN_USERS_MAX).map((u) => `${u.vm} (${u.macs.join(', ')})`).join(', ');
      const more = users.length > SHOWN_USERS_MAX ? ` and ${users.length - SHOWN_USERS_MAX} more` : '';
      throw new PvcError('refused', `network ${name} is used by the nics of vm ${shown}${more}: remove those nics or vms first`);
    }
    const [reservations, leases, acls] = await Promise.all([
      store.children(layout.networkReservationsDir(name)),
      store.children(layout.networkLeasesDir(name)),
      store.children(layout.networkAclsDir(name)),
    ]);
    const ops = reservations.length + leases.length + acls.length + 5;
    if (ops > REMOVE_MULTI_MAX_OPS) {
      // Too many for one multi: leases are observed state (the primary writes them again if the
      // network stays), so they may go first, in batches; then the whole removal is judged again.
      await removeLeasesInBatches(store, layout, name, leases);
      continue;
    }
    const tx = store.transaction().set(layout.networksDir(), {}, guard);
    for (const key of reservations) tx.remove(layout.networkReservation(name, macOfKey(layout.networkReservationsDir(name).path, key)));
    for (const key of leases) tx.remove(layout.networkLease(name, macOfKey(layout.networkLeasesDir(name).path, key)));
    for (const acl of acls) tx.remove(layout.networkAcl(name, acl));
    for (const dir of layout.networkDirectories(name)) tx.remove(dir);
    tx.remove(layout.network(name), spec.version);
    try {
      await tx.commit();
      return { name, removedReservations: reservations.length, removedAcls: acls.length };
    } catch (error) {
      if (!raced(error)) throw error;
    }
  }
  throw new PvcError('conflict', `gave up removing network ${name}: it changed ${NETWORK_WRITE_MAX_ATTEMPTS} times while removing`);
}

function macOfKey(dirPath: string, key: string): string {
  const mac = macFromKey(key);
  if (!mac) throw new PvcError('corrupt', `${dirPath} holds ${JSON.stringify(key)}, which is not a mac address as 12 hex digits`);
  return mac;
}

async function removeLeasesInBatches(store: ZkStore, layout: ZkLayout, network: string, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += REMOVE_MULTI_MAX_OPS) {
    const tx = store.transaction();
    for (const key of keys.slice(i, i + REMOVE_MULTI_MAX_OPS)) tx.remove(layout.networkLease(network, macOfKey(layout.networkLeasesDir(network).path, key)));
    try {
      await tx.commit();
    } catch (error) {
      // A lease the primary removed meanwhile: the next round lists what is left.
      if (!isZkError(error, 'NO_NODE')) throw error;
    }
  }
}
