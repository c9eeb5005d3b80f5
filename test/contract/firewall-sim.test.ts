// The firewall contract against the simulation.
import { SimFirewall } from '../../daemon/drivers/firewall/sim.ts';
import { firewallContract } from './firewall.contract.ts';

firewallContract('simulation', async () => ({ driver: new SimFirewall(), stop: async () => undefined }));
