// The FRR contract against the simulation: two nodes of one SimFrrWorld, each with simulated links
// (the underlay address on eth0, as in the real harness, so upstream announcements must filter it).
import { SimFrr, SimFrrWorld } from '../../daemon/drivers/frr/sim.ts';
import { SimLinks } from '../../daemon/drivers/links/sim.ts';
import { frrContract, type FrrContractNode } from './frr.contract.ts';

frrContract('simulation', async () => {
  const world = new SimFrrWorld();
  const node = async (name: string, address: string): Promise<FrrContractNode> => {
    const links = new SimLinks({ devices: ['eth0'] });
    await links.addAddress('eth0', `${address}/24`);
    return { name, frr: new SimFrr(world, links), links, address, logDir: `/sim/${name}` };
  };
  return { nodes: [await node('fa', '192.168.61.1'), await node('fb', '192.168.61.2')], ghostAddress: '192.168.61.9', stop: async () => undefined };
});
