// Reads of VMs shared by the CLI, the API and the primary's placement.
import { PvcError } from '../errors.ts';
import { isValidName } from '../names.ts';
import type { VmSpec, VmStatus, VmUnplaced, ZkLayout } from '../zk/schema.ts';
import type { Versioned, ZkStore } from '../zk/store.ts';

/** More VMs than a pvc cluster is built for; a listing past it says the tree is wrong. */
export const VMS_MAX = 100_000;

export interface VmFacts {
  spec: Versioned<VmSpec>;
  status: VmStatus | null;
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

export async function readAllVmFacts(store: ZkStore, layout: ZkLayout): Promise<VmFacts[]> {
  const names = await readVmNames(store, layout);
  const facts = await Promise.all(names.map((name) => readVmFacts(store, layout, name)));
  // A VM removed between the listing and its read is simply gone.
  return facts.filter((f): f is VmFacts => f !== null);
}
