// Records one lease event from dnsmasq in ZooKeeper (DhcpLease under the network's leases
// folder), by compare-and-set, as reconcile/lease-plan.ts decides. The caller removes the spooled
// event only after this resolved: a failed write leaves it to be tried again, so a lease dnsmasq
// handed out reaches ZooKeeper even when a write fails.
import type { ZkLayout } from '../../common/zk/schema.ts';
import { isZkError, type ZkStore } from '../../common/zk/store.ts';
import type { LeaseEvent } from '../drivers/dnsmasq/parse.ts';
import { planLeaseWrite } from '../reconcile/lease-plan.ts';

/** Lost compare-and-set races before giving up for this pass (the event stays spooled). */
const LEASE_CAS_ATTEMPTS = 8;

export type LeaseRecordOutcome = 'written' | 'removed' | 'skipped' | 'network-gone';

export async function recordLeaseEvent(store: ZkStore, layout: ZkLayout, network: string, event: LeaseEvent): Promise<LeaseRecordOutcome> {
  const ref = layout.networkLease(network, event.mac);
  for (let attempt = 1; attempt <= LEASE_CAS_ATTEMPTS; attempt += 1) {
    const current = await store.get(ref);
    const plan = planLeaseWrite(event, current?.value ?? null);
    try {
      switch (plan.kind) {
        case 'skip':
          return 'skipped';
        case 'remove':
          await store.remove(ref, current?.version ?? -1);
          return 'removed';
        case 'put':
          if (current) await store.set(ref, plan.lease, current.version);
          else await store.create(ref, plan.lease);
          return 'written';
        default: {
          const unknown: never = plan;
          throw new Error(`unknown lease write ${JSON.stringify(unknown)}`);
        }
      }
    } catch (error) {
      // No leases folder: the network is gone, and its leases with it.
      if (plan.kind === 'put' && !current && isZkError(error, 'NO_NODE')) return 'network-gone';
      if (plan.kind === 'remove' && isZkError(error, 'NO_NODE')) return 'removed';
      const raced = isZkError(error, 'BAD_VERSION') || isZkError(error, 'NODE_EXISTS') || isZkError(error, 'NO_NODE');
      if (!raced) throw error;
    }
  }
  throw new Error(`lease of ${event.mac} on network ${network}: lost ${LEASE_CAS_ATTEMPTS} compare-and-set races in a row`);
}
