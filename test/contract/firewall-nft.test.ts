// The firewall contract against nft (nftables 1.0.6) inside a network namespace this file creates.
import { NftFirewall } from '../../daemon/drivers/firewall/nft.ts';
import { addNetns, deleteNetns, netnsName } from '../helpers/netns.ts';
import { firewallContract } from './firewall.contract.ts';

firewallContract('nft in a netns', async () => {
  const ns = netnsName('fw');
  await addNetns(ns);
  return { driver: new NftFirewall({ netns: ns }), stop: () => deleteNetns(ns) };
});
