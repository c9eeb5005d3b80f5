// pvc network dhcp list|add|remove and pvc network acl add|remove|list.
import type { Command } from 'commander';
import { PvcError } from '../common/errors.ts';
import { assertName } from '../common/names.ts';
import { withClient } from './context.ts';
import { aclAddText, aclListTable, dhcpListTable } from './network-tables.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, parseFormat, render } from './output.ts';
import { parseCount } from './vm-args.ts';

/** Mirrors ACL_MAX_ORDER of the schema without loading it for every command. */
const ACL_MAX_ORDER = 1_000_000;

interface FormatOptions {
  format: string;
}

export function registerDhcp(network: Command): void {
  const dhcp = network
    .command('dhcp')
    .description("a managed network's DHCP reservations (MAC -> IPv4, hostname) and leases")
    .addHelpText('after', examples(['pvc network dhcp list prod', 'pvc network dhcp add prod 52:54:00:12:34:56 10.100.0.10 --hostname web1', 'pvc network dhcp remove prod 52:54:00:12:34:56']));

  dhcp
    .command('list')
    .description('list the reservations and the leases the primary handed out, by address')
    .argument('<network>', 'network name')
    .option('--kind <kind>', 'only reservation or only lease entries')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nEXPIRES is when a lease ends (UTC; never for an infinite one).\n' + examples(['pvc network dhcp list prod', 'pvc network dhcp list prod --kind lease --format json']))
    .action(async (name: string, options: FormatOptions & { kind?: string }, command: Command) => {
      const format = parseFormat(options.format);
      assertName('network', name);
      const kind = options.kind;
      if (kind !== undefined && kind !== 'reservation' && kind !== 'lease') throw new PvcError('bad-input', `invalid --kind ${JSON.stringify(kind)}: use reservation or lease`);
      const client = import('../common/client/network-dhcp.ts');
      const entries = await withClient(command, async (c) => (await client).listDhcp(c, name, kind));
      await render(entries, format, () => dhcpListTable(name, entries));
    });

  dhcp
    .command('add')
    .description('reserve an IPv4 address (and a hostname) for a MAC')
    .argument('<network>', 'network name')
    .argument('<mac>', 'the client MAC, e.g. 52:54:00:12:34:56')
    .argument('<ipv4>', 'the address inside the subnet, not the gateway')
    .option('--hostname <name>', 'registered in DNS under the network domain (default: what the client sends)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nRefused, naming the value: an invalid MAC, an address outside the subnet (or its network,\nbroadcast or gateway address), an address or hostname reserved for another MAC, a MAC that\nhas a reservation already.\n' +
        examples(['pvc network dhcp add prod 52:54:00:12:34:56 10.100.0.10', 'pvc network dhcp add prod 52:54:00:12:34:57 10.100.0.11 --hostname db1']),
    )
    .action(async (name: string, mac: string, ipv4: string, options: FormatOptions & { hostname?: string }, command: Command) => {
      const format = parseFormat(options.format);
      assertName('network', name);
      const client = await import('../common/client/network-dhcp.ts');
      const draft = { mac, ipv4, hostname: options.hostname ?? null };
      client.prepareReservation(draft); // a typo is reported before connecting
      const added = await withClient(command, (c) => client.addReservation(c, name, draft));
      await render(added, format, () => `reserved ${added.ipv4} for ${added.mac}${added.hostname ? ` (${added.hostname})` : ''} on network ${name}`);
    });

  dhcp
    .command('remove')
    .description('remove the reservation of a MAC')
    .argument('<network>', 'network name')
    .argument('<mac>', 'the client MAC')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nA lease the client holds stays until it ends.\n' + examples(['pvc network dhcp remove prod 52:54:00:12:34:56']))
    .action(async (name: string, mac: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertName('network', name);
      const client = await import('../common/client/network-dhcp.ts');
      client.parseMac(mac);
      const removed = await withClient(command, (c) => client.removeReservation(c, name, mac));
      await render(removed, format, () => `removed the reservation of ${removed.mac} (${removed.ipv4}) from network ${name}`);
    });
}

interface AclCliOptions extends FormatOptions {
  direction: string;
  action: string;
  order?: string;
  source?: string;
  destination?: string;
  protocol?: string;
  ports?: string;
  description?: string;
}

export function registerAcl(network: Command): void {
  const acl = network
    .command('acl')
    .description("a managed network's firewall rules, applied in order per direction")
    .addHelpText(
      'after',
      '\nin: traffic towards the network\'s VMs; out: traffic from them. Within a direction rules apply\nby order (then name); the first match decides; the network\'s default policy takes the rest.\n' +
        examples(['pvc network acl list prod', 'pvc network acl add prod ssh --direction in --action accept --protocol tcp --ports 22', 'pvc network acl remove prod ssh']),
    );

  acl
    .command('add')
    .description('add a firewall rule')
    .argument('<network>', 'network name')
    .argument('<acl>', 'rule name')
    .requiredOption('--direction <direction>', 'in or out')
    .requiredOption('--action <action>', 'accept, drop or reject')
    .option('--order <n>', `where it stands in its direction, 0-${ACL_MAX_ORDER} (default: 10 after the last)`)
    .option('--source <address|subnet>', 'only from here (default any)')
    .option('--destination <address|subnet>', 'only to here (default any)')
    .option('--protocol <protocol>', 'tcp, udp, icmp or any', 'any')
    .option('--ports <ports>', 'tcp/udp destination ports, e.g. 22,80-90 (default any)')
    .option('--description <text>', 'for people')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      examples([
        'pvc network acl add prod ssh --direction in --action accept --protocol tcp --ports 22 --source 192.168.1.0/24',
        'pvc network acl add prod no-smtp --direction out --action reject --protocol tcp --ports 25 --order 5',
        'pvc network acl add prod ping --direction in --action accept --protocol icmp',
      ]),
    )
    .action(async (name: string, aclName: string, options: AclCliOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertName('network', name);
      assertName('acl', aclName);
      const order = options.order === undefined ? undefined : parseCount('--order', options.order, 0, ACL_MAX_ORDER);
      const draft = { name: aclName, direction: options.direction, action: options.action, order, source: options.source, destination: options.destination, protocol: options.protocol, ports: options.ports, description: options.description };
      const client = await import('../common/client/network-acl.ts');
      client.prepareAcl(draft, []); // a typo is reported before connecting
      const added = await withClient(command, (c) => client.addAcl(c, name, draft));
      await render(added, format, () => aclAddText(name, added));
    });

  acl
    .command('remove')
    .description('remove a firewall rule')
    .argument('<network>', 'network name')
    .argument('<acl>', 'rule name')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc network acl remove prod ssh']))
    .action(async (name: string, aclName: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertName('network', name);
      assertName('acl', aclName);
      const client = import('../common/client/network-acl.ts');
      const removed = await withClient(command, async (c) => (await client).removeAcl(c, name, aclName));
      await render(removed, format, () => `removed acl ${removed.name} from network ${name}`);
    });

  acl
    .command('list')
    .description('list the rules in the order they apply')
    .argument('<network>', 'network name')
    .option('--direction <direction>', 'only in or only out')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc network acl list prod', 'pvc network acl list prod --direction in --format json']))
    .action(async (name: string, options: FormatOptions & { direction?: string }, command: Command) => {
      const format = parseFormat(options.format);
      assertName('network', name);
      const client = import('../common/client/network-acl.ts');
      const acls = await withClient(command, async (c) => (await client).listAcls(c, name, options.direction));
      await render(acls, format, () => aclListTable(name, acls));
    });
}
