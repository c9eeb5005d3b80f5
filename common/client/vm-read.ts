// Reads of VMs shared by the CLI, the API and the primary's placement.
import { PvcError } from '../errors.ts';
import { assertName, isValidName } from '../names.ts';
import type { VmSpec, VmStatus, VmUnplaced, ZkLayout } from '../zk/schema.ts';
import type { Versioned, ZkStore } from '../zk/store.ts';

/** More VMs than a pvc cluster is built for; a listing past it says the tree is wrong. */
export const VMS_MAX = 100_000;

export interface VmFacts {
  spec: Versioned<VmSpec>;
  status: VmStatus | null;
  /** Why placement could not give it a node; readAllVmFacts reads it only for VMs without one. */
  unplaced: VmUnplaced | null;
}

export async function readVmNames(store: ZkStore, layout: ZkLayout): Promise<string[]> {
  const names = await store.children(layout.vmsDir());
  if (names.length > VMS_MAX) throw new PvcError('corrupt', `${layout.vmsDir().path} has ${names.length} children, more than the ${VMS_MAX} pvc supports`);
  for (const name of names) {
    if (!isValidName(name)) throw new PvcError('corrupt', `${layout.vmsDir().path} holds ${JSON.stringify(name)}, which is not a valid vm name`);
  }
  return names.sort();
}

/** One VM's spec, status and unplaced reason; null when it does not exist. */
export async function readVmFacts(store: ZkStore, layout: ZkLayout, name: string): Promise<VmFacts | null> {
  const [spec, status, unplaced] = await Promise.all([store.get(layout.vm(name)), store.get(layout.vmStatus(name)), store.get(layout.vmUnplaced(name))]);
  if (!spec) return null;
  return { spec, status: status?.value ?? null, unplaced: unplaced?.value ?? null };
}

/**
 * Every VM's facts, for lists and placement. All requests of a wave go out before any answer is
 * awaited (one pipelined stream on the session's connection): the specs and statuses first,
 * then the unplaced reasons of the VMs that have no node, the only ones that can have one
 * (placement removes the reason in the same multi-op that gives the VM a node). Skipping the
 * others saves a third of the requests, each a NO_NODE error built by the ZooKeeper client.
 */
export async function readAllVmFacts(store: ZkStore, layout: ZkLayout): Promise<VmFacts[]> {
  const names = await readVmNames(store, layout);
  const read = await Promise.all(
    names.map(async (name) => {
      const [spec, status] = await Promise.all([store.get(layout.vm(name)), store.get(layout.vmStatus(name))]);
      return spec ? { spec, status: status?.value ?? null } : null;
    }),
  );
  // A VM removed between the listing and its read is simply gone.
  const found = read.filter((f): f is Omit<VmFacts, 'unplaced'> => f !== null);
  return Promise.all(
    found.map(async (f): Promise<VmFacts> => {
      if (f.spec.value.node !== null) return { ...f, unplaced: null };
      const unplaced = await store.get(layout.vmUnplaced(f.spec.value.name));
      return { ...f, unplaced: unplaced?.value ?? null };
    }),
  );
}

/** What every VM operation works on: one cluster's tree over one session (a PvcClient is one). */
export interface VmTarget {
  readonly store: ZkStore;
  readonly layout: ZkLayout;
}

/** One VM's facts; a VM that does not exist is refused, naming it and the cluster. */
export async function mustReadVmFacts(target: VmTarget, name: string): Promise<VmFacts> {
  assertName('vm', name);
  const facts = await readVmFacts(target.store, target.layout, name);
  if (!facts) throw new PvcError('not-found', `vm ${name} not found in cluster ${target.layout.cluster}`);
  return facts;
}
