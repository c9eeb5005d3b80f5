// Cluster-wide settings an administrator changes: for now the default VM selector, which
// placement uses for VMs that name none (PVC's default is `mem`).
import { PvcError } from '../errors.ts';
import { VM_SELECTORS, defaultVmSelectorOf, type VmSelector, type ZkLayout } from '../zk/schema.ts';
import { SKIP, type ZkStore } from '../zk/store.ts';

export interface ClusterSettings {
  defaultVmSelector: VmSelector;
}

export function parseVmSelector(value: string): VmSelector {
  if (!(VM_SELECTORS as readonly string[]).includes(value)) {
    throw new PvcError('bad-input', `invalid vm selector ${JSON.stringify(value)}: use one of ${VM_SELECTORS.join(', ')}`);
  }
  return value as VmSelector;
}

export async function readClusterSettings(store: ZkStore, layout: ZkLayout): Promise<ClusterSettings> {
  const info = await store.mustGet(layout.clusterInfo(), `cluster ${layout.cluster}`);
  return { defaultVmSelector: defaultVmSelectorOf(info.value) };
}

export async function setClusterSettings(store: ZkStore, layout: ZkLayout, changes: Partial<ClusterSettings>): Promise<ClusterSettings> {
  await store.update(layout.clusterInfo(), (current) => {
    if (!current) throw new PvcError('not-found', `cluster ${layout.cluster} has no cluster info (${layout.clusterInfo().path})`);
    const next = { ...current, ...(changes.defaultVmSelector ? { defaultVmSelector: changes.defaultVmSelector } : {}) };
    return JSON.stringify(next) === JSON.stringify(current) ? SKIP : next;
  });
  return readClusterSettings(store, layout);
}
