// The FRR contract against real zebra + bgpd (FRR 8.4): two "node" namespaces joined by a veth
// pair as their underlay, each with its own daemons and state folder under the test run's folder.
import path from 'node:path';
import { inject } from 'vitest';
import { FrrDaemons } from '../../daemon/drivers/frr/daemons.ts';
import { IprouteLinks } from '../../daemon/drivers/links/iproute.ts';
import { addNetns, deleteNetns, ipIn, netnsName } from '../helpers/netns.ts';
import { frrContract, type FrrContractNode } from './frr.contract.ts';

frrContract('real zebra + bgpd in netns', async () => {
  const names = [netnsName('frra'), netnsName('frrb')] as const;
  const addresses = ['192.168.61.1', '192.168.61.2'] as const;
  const base = path.join(inject('testRunDir'), `frr-contract-${process.pid}`);
  for (const ns of names) await addNetns(ns);
  await ipIn(names[0], ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', names[1]]);
  const nodes: FrrContractNode[] = names.map((ns, i) => {
    const dir = path.join(base, `n${i}`);
    return { name: `n${i}`, frr: new FrrDaemons({ stateDir: dir, netns: ns }), links: new IprouteLinks({ netns: ns }), address: addresses[i] as string, logDir: dir };
  });
  for (const [i, ns] of names.entries()) {
    await ipIn(ns, ['addr', 'add', `${addresses[i]}/24`, 'dev', 'eth0']);
    await ipIn(ns, ['link', 'set', 'eth0', 'up']);
  }
  return {
    nodes: [nodes[0] as FrrContractNode, nodes[1] as FrrContractNode] as const,
    ghostAddress: '192.168.61.9',
    stop: async () => {
      for (const node of nodes) await node.frr.stop().catch(() => undefined);
      for (const ns of names) await deleteNetns(ns);
    },
  };
});
