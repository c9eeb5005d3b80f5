// The FRR contract against the simulation: two nodes of one SimFrrWorld, each with simulated links.
import { SimFrr, SimFrrWorld } from '../../daemon/drivers/frr/sim.ts';
import { SimLinks } from '../../daemon/drivers/links/sim.ts';
import { frrContract } from './frr.contract.ts';

frrContract('simulation', async () => {
  const world = new SimFrrWorld();
  const node = (name: string, address: string) => {
    const links = new SimLinks({ devices: ['eth0'] });
    return { name, frr: new SimFrr(world, links), links, address, logDir: `/sim/${name}` };
  };
  return { nodes: [node('fa', '192.168.61.1'), node('fb', '192.168.61.2')], ghostAddress: '192.168.61.9', stop: async () => undefined };
});
