// pvc cluster network show|set: the cluster-wide network settings (BGP AS, upstream peers,
// floating IPs, the cluster's DNS zone). Registered under `pvc cluster` by cli/cluster.ts.
import type { Command } from 'commander';
import { PvcError } from '../common/errors.ts';
import { withClient } from './context.ts';
import { collect } from './network-args.ts';
import { clusterNetworkTable } from './network-tables.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, parseFormat, render } from './output.ts';
import { parseCount } from './vm-args.ts';

/** Mirrors ASN_MAX of the schema (4-byte ASNs). */
const ASN_MAX = 4_294_967_295;

interface SetOptions {
  format: string;
  asn?: string;
  dnsZone?: string;
  addPeer?: string[];
  removePeer?: string[];
  addFloatingIp?: string[];
  removeFloatingIp?: string[];
  upstreamResolvers?: string;
}

/** `ADDRESS,ASN` -> a peer; refused naming the value. */
function peerOf(text: string): { address: string; asn: number } {
  const [address, asn, extra] = text.split(',');
  if (!address || asn === undefined || extra !== undefined) throw new PvcError('bad-input', `invalid --add-peer ${JSON.stringify(text)}: use ADDRESS,ASN such as 192.0.2.1,65001`);
  return { address, asn: parseCount('--add-peer asn', asn, 1, ASN_MAX) };
}

/** `ADDRESS/LEN[,DEVICE]` -> a floating IP. */
function floatingOf(text: string): { address: string; device: string | null } {
  const [address, device, extra] = text.split(',');
  if (!address || extra !== undefined) throw new PvcError('bad-input', `invalid --add-floating-ip ${JSON.stringify(text)}: use ADDRESS/LEN or ADDRESS/LEN,DEVICE such as 10.0.0.254/24,eno1`);
  return { address, device: device || null };
}

/** `A,B` -> addresses; `none` -> []. Each address is checked by the schema, which names it. */
function resolversOf(text: string): string[] {
  if (text.trim() === 'none') return [];
  const list = text.split(',').map((a) => a.trim());
  if (list.some((a) => a === '')) throw new PvcError('bad-input', `invalid --upstream-resolvers ${JSON.stringify(text)}: use comma-separated addresses such as 192.0.2.53,2001:db8::53, or none`);
  return list;
}

export function registerClusterNetwork(cluster: Command): void {
  const network = cluster
    .command('network')
    .description('cluster-wide network settings: BGP AS, upstream peers, floating IPs, DNS zone')
    .addHelpText('after', examples(['pvc cluster network show', 'pvc cluster network set --asn 65100 --add-peer 192.0.2.1,65001']));

  network
    .command('show')
    .description('show the cluster network settings')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc cluster network show', 'pvc cluster network show --format json']))
    .action(async (options: { format: string }, command: Command) => {
      const format = parseFormat(options.format);
      const client = import('../common/client/cluster-network.ts');
      const settings = await withClient(command, async (c) => (await client).getClusterNetwork(c));
      await render(settings, format, () => clusterNetworkTable(settings));
    });

  network
    .command('set')
    .description('change the cluster network settings')
    .option('--asn <n>', 'the AS of the cluster\'s own iBGP EVPN sessions')
    .option('--dns-zone <zone>', "the cluster's own DNS zone")
    .option('--add-peer <address,asn>', 'add an upstream BGP peer of the coordinators (repeatable)', collect)
    .option('--remove-peer <address>', 'remove an upstream peer (repeatable)', collect)
    .option('--add-floating-ip <address/len[,device]>', "add an address that moves with the primary (default device: the node's underlay)", collect)
    .option('--remove-floating-ip <address>', 'remove a floating IP (repeatable)', collect)
    .option('--upstream-resolvers <addresses>', "comma-separated resolvers for names outside pvc's zones (replaces the list; `none` clears it)")
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nRemovals apply before additions, so a peer or floating IP is changed by removing and adding it.\n' +
        examples([
          'pvc cluster network set --asn 65100 --dns-zone lab.example.net',
          'pvc cluster network set --add-peer 192.0.2.1,65001 --add-floating-ip 10.0.0.254/24,eno1',
          'pvc cluster network set --remove-peer 192.0.2.1 --format json',
        ]),
    )
    .action(async (options: SetOptions, command: Command) => {
      const format = parseFormat(options.format);
      const changes = {
        asn: options.asn === undefined ? undefined : parseCount('--asn', options.asn, 1, ASN_MAX),
        dnsZone: options.dnsZone,
        addPeers: options.addPeer?.map(peerOf),
        removePeers: options.removePeer,
        addFloatingIps: options.addFloatingIp?.map(floatingOf),
        removeFloatingIps: options.removeFloatingIp,
        upstreamResolvers: options.upstreamResolvers === undefined ? undefined : resolversOf(options.upstreamResolvers),
      };
      if (Object.values(changes).every((v) => v === undefined)) throw new PvcError('bad-input', 'nothing to set: give at least one option (see pvc cluster network set --help)');
      const client = import('../common/client/cluster-network.ts');
      const result = await withClient(command, async (c) => (await client).setClusterNetwork(c, changes));
      await render(result, format, () => `cluster network settings ${result.changed ? 'changed' : 'unchanged'}\n\n${clusterNetworkTable(result.settings)}`);
    });
}
