// `vm remove`: only a VM that runs nowhere may go, so that removing never pulls a running guest
// out from under its node. Status, unplaced reason and spec go in one multi-op, each removal
// checking the version read, so a VM that a node started meanwhile is read and judged again.
import { PvcError } from '../errors.ts';
import { isZkError } from '../zk/store.ts';
import { assertName } from '../names.ts';
import type { VmTarget } from './vm-read.ts';
import { VM_NOT_RUNNING_STATES, vmMayBeRunning } from './vm-views.ts';

/** Reads and removals retried when the VM changed between them. */
export const REMOVE_MAX_ATTEMPTS = 8;

export interface RemoveResult {
  name: string;
  /** The state its node last reported; null when no node ever did. */
  lastState: string | null;
}

export async function removeVm(target: VmTarget, name: string): Promise<RemoveResult> {
  assertName('vm', name);
  const { store, layout } = target;
  for (let attempt = 1; attempt <= REMOVE_MAX_ATTEMPTS; attempt += 1) {
    // Read with their versions, all in one round trip, so each removal checks what was judged.
    const [spec, status, unplaced] = await Promise.all([store.get(layout.vm(name)), store.get(layout.vmStatus(name)), store.stat(layout.vmUnplaced(name))]);
    if (!spec) throw new PvcError('not-found', `vm ${name} not found in cluster ${layout.cluster}`);
    if (vmMayBeRunning(status?.value ?? null)) {
      throw new PvcError(
        'refused',
        `vm ${name} is ${status?.value.state} on node ${status?.value.node}: stop it first (pvc vm stop ${name} --wait); ` +
          `a vm may be removed in ${[...VM_NOT_RUNNING_STATES].join(', ')} or before any node reported it`,
      );
    }
    const tx = store.transaction();
    if (status) tx.remove(layout.vmStatus(name), status.version);
    if (unplaced) tx.remove(layout.vmUnplaced(name), unplaced.version);
    tx.remove(layout.vm(name), spec.version);
    try {
      await tx.commit();
      return { name, lastState: status?.value.state ?? null };
    } catch (error) {
      // Changed (BAD_VERSION), gone (NO_NODE) or given a child (NOT_EMPTY: a node reported it)
      // since the read: judge again on what is there now.
      if (isZkError(error, 'BAD_VERSION') || isZkError(error, 'NO_NODE') || isZkError(error, 'NOT_EMPTY')) continue;
      throw error;
    }
  }
  throw new PvcError('conflict', `gave up removing vm ${name}: it changed ${REMOVE_MAX_ATTEMPTS} times while removing`);
}
