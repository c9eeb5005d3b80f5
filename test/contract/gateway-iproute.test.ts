// The gateway contract against iproute2 and busybox arping: a "gateway" namespace with bridge
// vmbr8 and a client namespace on it, whose neighbour entry the test first sets to a wrong MAC
// (as if the previous primary had answered).
import { IprouteGateway } from '../../daemon/drivers/gateway/iproute.ts';
import { addNetns, deleteNetns, ipIn, netnsName } from '../helpers/netns.ts';
import { gatewayContract } from './gateway.contract.ts';

const MAC = '02:00:00:00:08:01';

gatewayContract('iproute2 in a netns', async () => {
  const gw = netnsName('gwsrv');
  const client = netnsName('gwcli');
  await addNetns(gw);
  await addNetns(client);
  await ipIn(gw, ['link', 'add', 'vmbr8', 'address', MAC, 'type', 'bridge']);
  await ipIn(gw, ['link', 'set', 'vmbr8', 'up']);
  await ipIn(gw, ['link', 'add', 'port0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
  await ipIn(gw, ['link', 'set', 'port0', 'master', 'vmbr8', 'up']);
  await ipIn(client, ['addr', 'add', '10.77.8.50/24', 'dev', 'eth0']);
  await ipIn(client, ['link', 'set', 'eth0', 'up']);
  return {
    driver: new IprouteGateway(gw),
    device: 'vmbr8',
    mac: MAC,
    clientAddress: '10.77.8.50',
    // A reachable (not permanent) entry, as one learned from the old primary's answer.
    poisonClient: async (address) => void (await ipIn(client, ['neigh', 'replace', address, 'lladdr', '02:00:00:00:00:99', 'dev', 'eth0', 'nud', 'reachable'])),
    clientNeighbour: async (address) => {
      const { stdout } = await ipIn(client, ['-json', 'neigh', 'show', address, 'dev', 'eth0']);
      const entries = JSON.parse(stdout.trim() || '[]') as Array<{ lladdr?: string }>;
      return entries[0]?.lladdr ?? null;
    },
    stop: async () => {
      await deleteNetns(client);
      await deleteNetns(gw);
    },
  };
});
