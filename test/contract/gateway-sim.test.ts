// The gateway contract against the simulation: the harness's client learns what was announced.
import { SimGateway } from '../../daemon/drivers/gateway/sim.ts';
import { gatewayContract } from './gateway.contract.ts';

gatewayContract('simulation', async () => {
  const driver = new SimGateway(['vmbr8'], 50);
  driver.neighbours.add('10.77.8.50');
  let poisonedAt = 0;
  const learned = () => [...driver.announced.slice(poisonedAt).map((s) => s.ipv4), ...driver.asked.slice(askedAt).map((s) => s.sourceIpv4)];
  let askedAt = 0;
  return {
    driver,
    device: 'vmbr8',
    mac: '02:00:00:00:08:01',
    clientAddress: '10.77.8.50',
    poisonClient: async () => {
      poisonedAt = driver.announced.length;
      askedAt = driver.asked.length;
    },
    clientNeighbour: async (address) => (learned().includes(address) ? '02:00:00:00:08:01' : '02:00:00:00:00:99'),
    stop: async () => undefined,
  };
});
