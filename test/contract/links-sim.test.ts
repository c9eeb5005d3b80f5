// The links contract against the simulation.
import { SimLinks } from '../../daemon/drivers/links/sim.ts';
import { linksContract } from './links.contract.ts';

linksContract('simulation', async () => ({
  driver: new SimLinks({ devices: ['eth0'], vlanSupported: false }),
  underlay: 'eth0',
  localAddress: '192.168.50.1',
  vlanSupported: false,
  stop: async () => undefined,
}));

linksContract('simulation with 8021q', async () => ({
  driver: new SimLinks({ devices: ['eth0'], vlanSupported: true }),
  underlay: 'eth0',
  localAddress: '192.168.50.1',
  vlanSupported: true,
  stop: async () => undefined,
}));
