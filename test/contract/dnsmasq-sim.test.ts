// The DHCP contract against the simulation. The harness plays dnsmasq's part on the wire: a
// running instance answers a client with its reservation or the next address of the range, and
// spools an `add` event, as lease-hook.sh would.
import { SimDhcp } from '../../daemon/drivers/dnsmasq/sim.ts';
import { dhcpContract } from './dnsmasq.contract.ts';

dhcpContract('simulation', async () => {
  const driver = new SimDhcp(50);
  const network = 'simnet';
  const range = { start: '10.77.9.100', end: '10.77.9.150' };
  let next = 100;
  return {
    driver,
    network,
    configText: 'interface=vmbr9\n',
    range,
    failingConfig: () => {
      driver.faults.failNext(1, 'failed', 'dnsmasq: bad dhcp-range at line 2');
      return 'interface=vmbr9\ndhcp-range=bogus\n';
    },
    requestLease: async (mac, hostname) => {
      const instance = driver.instancesByNetwork.get(network);
      if (!instance?.running) return null;
      const line = [...instance.reservations.values()].find((l) => l.startsWith(`${mac},`));
      const ip = line ? (line.trim().split(',')[1] as string) : `10.77.9.${next++}`;
      driver.emitLeaseEvent(network, `add ${mac} ${ip} ${Math.floor(Date.now() / 1000) + 3600} ${hostname ?? ''}\n`);
      return ip;
    },
    crash: async () => driver.crash(network),
    stop: async () => undefined,
  };
});
