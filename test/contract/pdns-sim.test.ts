// The DNS contract against the simulation.
import { SimDns } from '../../daemon/drivers/pdns/sim.ts';
import { dnsContract } from './pdns.contract.ts';

dnsContract('simulation', async () => {
  const driver = new SimDns(50);
  return {
    driver,
    resolve: async (name, type) => (driver.running ? (driver.lookup(name, type) ?? []) : null),
    crash: async () => driver.crash(),
    stop: async () => undefined,
  };
});
