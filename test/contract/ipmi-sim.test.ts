// The IPMI contract against the simulated BMCs.
import { SimIpmi } from '../../daemon/drivers/ipmi/sim.ts';
import type { PowerState } from '../../daemon/drivers/ipmi/port.ts';
import { ipmiContract } from './ipmi.contract.ts';

ipmiContract('simulation', async () => {
  const driver = new SimIpmi();
  const events: Array<{ state: PowerState }> = [];
  const target = { host: '127.0.0.1', port: 16001, username: 'admin', password: 's3cret-sim' };
  driver.add({ ...target, onPower: (state) => void events.push({ state }) });
  const silent = { ...target, port: 16002 };
  driver.add(silent).faults.unreachable = true;
  return { driver, target, silent, events, stop: async () => undefined };
});
