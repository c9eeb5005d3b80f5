// Which primary runnables a coordinator runs, by the names its config lists: the journal (for
// tests and benchmarks) and placement. DHCP, DNS, boot services and fencing join in later work.
import type { PvcdConfig } from '../config.ts';
import { PlacementRunnable, type PlacementDeps } from './placement-runnable.ts';
import { PrimaryJournal } from './primary-journal.ts';
import type { Runnable } from './runnables.ts';

export function buildRunnables(config: PvcdConfig, deps: PlacementDeps): Runnable[] {
  return config.coordinator.runnables.map((name): Runnable => {
    switch (name) {
      case 'primary-journal': {
        const journal = config.coordinator.primaryJournal;
        if (!journal) throw new Error('primary-journal runnable without a journal path (config validation should have refused it)');
        return new PrimaryJournal(journal.path, journal.tickIntervalMs);
      }
      case 'placement':
        return new PlacementRunnable(deps);
      default: {
        const unknown: never = name;
        throw new Error(`unknown runnable ${String(unknown)}`);
      }
    }
  });
}
