// Which primary runnables a coordinator runs, by the names its config lists: the journal (for
// tests and benchmarks), placement, fencing, the storage status refresh and the network
// services (gateways, dns, dhcp). Boot services join in later work.
import type { PvcdConfig } from '../config.ts';
import { PlacementRunnable, type PlacementDeps } from './placement-runnable.ts';
import { PrimaryJournal } from './primary-journal.ts';
import type { Runnable } from './runnables.ts';
import { FencingRunnable } from './fencing-runnable.ts';
import type { FenceStorage } from './fence-steps.ts';
import { IpmitoolDriver } from '../drivers/ipmi/ipmitool.ts';
import { buildNetworkServiceRunnable } from './network-services.ts';
import { StorageStatusRunnable } from './storage-status-runnable.ts';
import type { CephDriver } from '../drivers/ceph/port.ts';

/**
 * ceph: the driver built from config.ceph, which the storage-status runnable reads through and
 * the fencer blocklists through (fenceStorage, when given, replaces it for the fencer: tests);
 * null or absent: no Ceph on this coordinator.
 */
export function buildRunnables(config: PvcdConfig, deps: PlacementDeps & { fenceStorage?: FenceStorage | null; ceph?: CephDriver | null }): Runnable[] {
  return config.coordinator.runnables.map((name): Runnable => {
    switch (name) {
      case 'primary-journal': {
        const journal = config.coordinator.primaryJournal;
        if (!journal) throw new Error('primary-journal runnable without a journal path (config validation should have refused it)');
        return new PrimaryJournal(journal.path, journal.tickIntervalMs);
      }
      case 'placement':
        return new PlacementRunnable(deps);
      case 'fencing':
        return new FencingRunnable({ store: deps.store, layout: deps.layout, ha: config.ha, ipmi: new IpmitoolDriver({ timeoutMs: config.ha.ipmiTimeoutMs }), ceph: deps.fenceStorage ?? deps.ceph ?? null });
      case 'storage-status': {
        if (!deps.ceph) throw new Error('storage-status runnable without a ceph driver (config validation should have refused a config without ceph)');
        return new StorageStatusRunnable({ store: deps.store, layout: deps.layout, ceph: deps.ceph, intervalMs: config.timeouts.storageStatusIntervalMs, refreshTimeoutMs: config.timeouts.storageRefreshTimeoutMs });
      }
      case 'gateways':
      case 'dns':
      case 'dhcp':
        return buildNetworkServiceRunnable(name, config, deps);
      default: {
        const unknown: never = name;
        throw new Error(`unknown runnable ${String(unknown)}`);
      }
    }
  });
}
