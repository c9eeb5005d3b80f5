// The Ceph driver a caller's settings ask for: the real one (the ceph and rbd CLIs against a
// cluster named by its ceph.conf) or an in-memory simulation.
import { CephCliDriver } from './ceph-cli.ts';
import type { CephDriver } from './port.ts';
import { SimCeph, type SimCephOptions } from './sim.ts';
import type { CephTimeouts } from './timeouts.ts';

export type CephDriverSettings =
  | {
      driver: 'real';
      /** Absolute path of the cluster's ceph.conf. */
      conf: string;
      /** cephx user without "client.", e.g. "admin". */
      id: string;
      /** Default: the keyring ceph.conf names for the user. */
      keyring?: string;
      timeouts?: Partial<CephTimeouts>;
    }
  | { driver: 'sim'; options?: SimCephOptions };

export function createCephDriver(settings: CephDriverSettings): CephDriver {
  switch (settings.driver) {
    case 'real':
      return new CephCliDriver({ confPath: settings.conf, clientId: settings.id, keyringPath: settings.keyring }, { timeouts: settings.timeouts });
    case 'sim':
      return new SimCeph(settings.options);
    default: {
      const unknown: never = settings;
      throw new Error(`unknown ceph driver ${JSON.stringify(unknown)}`);
    }
  }
}
