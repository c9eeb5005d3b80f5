// The links contract against iproute2, inside a network namespace this file creates: a veth
// pair stands in for the underlay NIC. Whether the kernel can make VLAN interfaces is probed
// (this test machine's kernel has no 8021q), so the suite checks whichever behaviour is real.
import { IprouteLinks } from '../../daemon/drivers/links/iproute.ts';
import { addNetns, deleteNetns, ipIn, netnsName } from '../helpers/netns.ts';
import { linksContract } from './links.contract.ts';

async function probeVlan(ns: string): Promise<boolean> {
  try {
    await ipIn(ns, ['link', 'add', 'link', 'eth0', 'name', 'probe9', 'type', 'vlan', 'id', '9']);
    await ipIn(ns, ['link', 'del', 'probe9']);
    return true;
  } catch {
    return false;
  }
}

linksContract('iproute2 in a netns', async () => {
  const ns = netnsName('lnk');
  await addNetns(ns);
  await ipIn(ns, ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p']);
  await ipIn(ns, ['addr', 'add', '192.168.50.1/24', 'dev', 'eth0']);
  await ipIn(ns, ['link', 'set', 'eth0', 'up']);
  await ipIn(ns, ['link', 'set', 'eth0p', 'up']);
  return {
    driver: new IprouteLinks({ netns: ns }),
    underlay: 'eth0',
    localAddress: '192.168.50.1',
    vlanSupported: await probeVlan(ns),
    stop: () => deleteNetns(ns),
  };
});
