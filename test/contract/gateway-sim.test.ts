// The gateway contract against the simulation: the harness's client learns what was announced.
import { SimGateway } from '../../daemon/drivers/gateway/sim.ts';
import { gatewayContract } from './gateway.contract.ts';

gatewayContract('simulation', async () => {
  const driver = new SimGateway(['vmbr8'], 50);
  let poisonedAt = 0;
  return {
    driver,
    device: 'vmbr8',
    mac: '02:00:00:00:08:01',
    poisonClient: async () => {
      poisonedAt = driver.announced.length;
    },
    clientNeighbour: async (address) => (driver.announced.slice(poisonedAt).some((s) => s.ipv4 === address) ? '02:00:00:00:08:01' : '02:00:00:00:00:99'),
    stop: async () => undefined,
  };
});
