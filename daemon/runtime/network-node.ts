// Builds this node's network controller and its drivers from pvcd's `network` config section
// (daemon/network-config.ts); null when the node leaves networking alone (driver `none`).
import type { Logger } from 'pino';
import type { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import type { PvcdConfig } from '../config.ts';
import { NftFirewall } from '../drivers/firewall/nft.ts';
import { SimFirewall } from '../drivers/firewall/sim.ts';
import { FrrDaemons } from '../drivers/frr/daemons.ts';
import { SimFrr, SimFrrWorld } from '../drivers/frr/sim.ts';
import { IprouteLinks } from '../drivers/links/iproute.ts';
import { SimLinks } from '../drivers/links/sim.ts';
import type { NetworkConfig } from '../network-config.ts';
import { NetworkController, type NetworkControllerOptions } from './network-controller.ts';

type Drivers = Pick<NetworkControllerOptions, 'links' | 'frr' | 'firewall'>;

export function createNetworkDrivers(config: NetworkConfig): Drivers | null {
  const { netns } = config;
  switch (config.driver) {
    case 'none':
      return null;
    case 'real':
      return {
        links: new IprouteLinks({ netns }),
        frr: config.frr ? { driver: new FrrDaemons({ stateDir: config.frr.stateDir, netns, binDir: config.frr.binDir, user: config.frr.user }), logDir: config.frr.stateDir } : null,
        firewall: config.firewall ? new NftFirewall({ netns }) : null,
      };
    case 'sim': {
      // One simulated node: its devices are the configured ones; its FRR has no peers to meet.
      const links = new SimLinks({ devices: [...new Set([config.underlayDevice, config.bridgedDevice].filter((d): d is string => d !== null))] });
      return {
        links,
        frr: config.frr ? { driver: new SimFrr(new SimFrrWorld(), links), logDir: config.frr.stateDir } : null,
        firewall: config.firewall ? new SimFirewall() : null,
      };
    }
    default: {
      const unknown: never = config.driver;
      throw new Error(`unknown network driver ${String(unknown)}`);
    }
  }
}

export function buildNetworkController(config: PvcdConfig, store: ZkStore, layout: ZkLayout, log: Logger): NetworkController | null {
  const drivers = createNetworkDrivers(config.network);
  if (!drivers) return null;
  const { vtepAddress, underlayDevice, bridgedDevice } = config.network;
  return new NetworkController({
    store,
    layout,
    node: config.node,
    role: config.role,
    facts: { vtepAddress, underlayDevice, bridgedDevice },
    ...drivers,
    resyncIntervalMs: config.timeouts.resyncIntervalMs,
    log: log.child({ component: 'network' }),
  });
}

/** What pvcd publishes in its node status for the other nodes' FRR; absent without networking. */
export function networkStatusOf(config: PvcdConfig): { network?: { vtepAddress: string } } {
  const { driver, vtepAddress } = config.network;
  return driver !== 'none' && vtepAddress !== null ? { network: { vtepAddress } } : {};
}
