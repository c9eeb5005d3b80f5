// The hypervisor driver a pvcd config asks for.
import type { PvcdConfig } from '../../config.ts';
import type { HypervisorDriver } from './port.ts';
import { RemoteSimHypervisor } from './sim-remote.ts';
import { VirshHypervisor } from './virsh.ts';

export type HypervisorConfig = NonNullable<PvcdConfig['hypervisor']>;

export function createHypervisor(config: HypervisorConfig, node: string): HypervisorDriver {
  switch (config.driver) {
    case 'libvirt':
      return new VirshHypervisor(config.uri);
    case 'sim':
      return new RemoteSimHypervisor(config.uri, node);
    default: {
      const unknown: never = config.driver;
      throw new Error(`unknown hypervisor driver ${String(unknown)}`);
    }
  }
}
