// The DHCP contract against real dnsmasq: a "server" namespace with bridge vmbr7 (10.77.7.1/24)
// and a "client" namespace whose eth0 is a veth into that bridge; dnsmasq runs in the server
// namespace through the driver's netns option, its files under this run's folder.
import path from 'node:path';
import { inject } from 'vitest';
import { DnsmasqDriver } from '../../daemon/drivers/dnsmasq/dnsmasq.ts';
import { renderDnsmasqConfig } from '../../daemon/drivers/dnsmasq/render.ts';
import { dnsmasqInputOf } from '../../daemon/reconcile/dhcp-plan.ts';
import { sendSignal } from '../../daemon/drivers/service-process.ts';
import { readFileSync } from 'node:fs';
import { requestLease } from '../helpers/dhcp-client.ts';
import { managedNetwork } from '../helpers/network-fixtures.ts';
import { addNetns, deleteNetns, ipIn, netnsName } from '../helpers/netns.ts';
import { dhcpContract } from './dnsmasq.contract.ts';

dhcpContract('dnsmasq in a netns', async () => {
  const server = netnsName('dmsrv');
  const client = netnsName('dmcli');
  await addNetns(server);
  await addNetns(client);
  await ipIn(server, ['link', 'add', 'vmbr7', 'type', 'bridge']);
  await ipIn(server, ['addr', 'add', '10.77.7.1/24', 'dev', 'vmbr7']);
  await ipIn(server, ['link', 'set', 'vmbr7', 'up']);
  await ipIn(server, ['link', 'add', 'port0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
  await ipIn(server, ['link', 'set', 'port0', 'master', 'vmbr7', 'up']);
  await ipIn(client, ['link', 'set', 'eth0', 'up']);
  const network = 'contract7';
  const driver = new DnsmasqDriver({ stateDir: path.join(inject('testRunDir'), `dnsmasq-contract-${process.pid}`), netns: server });
  const spec = managedNetwork({ name: network, vni: 7, domain: 'contract7.test', ipv4: { subnet: '10.77.7.0/24', gateway: '10.77.7.1', dhcp: { enabled: true, start: '10.77.7.100', end: '10.77.7.150' } } });
  const configText = renderDnsmasqConfig(dnsmasqInputOf(spec, { leaseTimeS: 600, pdns: { address: '127.0.0.1', port: 5300 }, servedZones: [], upstreamResolvers: [], logDhcp: true }), driver.pathsOf(network));
  return {
    driver,
    network,
    configText,
    range: { start: '10.77.7.100', end: '10.77.7.150' },
    failingConfig: () => `${configText}dhcp-range=bogus\n`,
    requestLease: async (mac, hostname) => {
      await ipIn(client, ['addr', 'flush', 'dev', 'eth0']);
      await ipIn(client, ['link', 'set', 'eth0', 'address', mac]);
      return (await requestLease(client, 'eth0', hostname, 2))?.ip ?? null;
    },
    crash: async () => sendSignal(Number(readFileSync(driver.pathsOf(network).pidFile, 'utf8').trim()), 'SIGKILL'),
    stop: async () => {
      await driver.closeAll();
      await deleteNetns(client);
      await deleteNetns(server);
    },
  };
});
