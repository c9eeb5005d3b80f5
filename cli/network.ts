// pvc network: add, modify, remove, list, info, and the dhcp and acl subcommands
// (cli/network-sub.ts). A thin shell over common/client/network-*.ts: options are turned into a
// draft or patch here (cli/network-args.ts), the client checks them (naming a wrong value) and
// writes; results go through output.ts.
import type { Command } from 'commander';
import { PvcError } from '../common/errors.ts';
import { assertName } from '../common/names.ts';
import { withClient } from './context.ts';
import { collect, networkDraftOf, networkPatchOf, type NetworkCliOptions } from './network-args.ts';
import { registerAcl, registerDhcp } from './network-sub.ts';
import { networkInfoTable, networkListTable, networkWriteText } from './network-tables.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, confirm, examples, parseFormat, render } from './output.ts';

interface FormatOptions {
  format: string;
}

export function registerNetwork(program: Command): void {
  const network = program
    .command('network')
    .description('define client networks (managed VXLAN or bridged VLAN), their DHCP and firewall')
    .addHelpText(
      'after',
      '\nA managed network is a VXLAN segment (vni) carried by BGP EVPN between the nodes, with the\n' +
        'primary coordinator as its gateway, DHCP and DNS server. A bridged network is a VLAN on a\n' +
        'physical device. VM NICs name their network; every node attaches them to bridge vmbr<vni|vlan>.\n' +
        examples([
          'pvc network add prod --vni 100 --ipv4 10.100.0.0/24 --dhcp4-start 10.100.0.100 --dhcp4-end 10.100.0.199',
          'pvc network add storage --type bridged --vlan 200 --device eno2',
          'pvc network list',
          'pvc network dhcp add prod 52:54:00:12:34:56 10.100.0.10 --hostname web1',
          'pvc network acl add prod ssh --direction in --action accept --protocol tcp --ports 22',
        ]),
    );
  registerAdd(network);
  registerModify(network);
  registerRemove(network);
  registerList(network);
  registerInfo(network);
  registerDhcp(network);
  registerAcl(network);
}

/** The options add and modify share; `forModify` adds those that only make sense on a change. */
function specOptions(command: Command, forModify: boolean): Command {
  command
    .option('--vni <n>', 'managed: the VXLAN network identifier, 1-16777215 (bridge vmbr<vni>)')
    .option('--vlan <n>', 'bridged: the VLAN id, 1-4094 (bridge vmbr<vlan>)')
    .option('--device <dev>', "bridged: the physical device; 'default': each node's configured default")
    .option('--description <text>', 'for people')
    .option('--domain <domain>', 'managed: the DNS domain of its hosts (default <name>.<cluster dns zone>)')
    .option('--mtu <bytes>', "1280-9216; 'auto': the kernel's choice")
    .option('--ipv4 <subnet>', 'managed: the IPv4 subnet, e.g. 10.100.0.0/24')
    .option('--gateway4 <address>', 'managed: the IPv4 gateway (default the first address of the subnet)')
    .option('--dhcp4', 'managed: serve DHCPv4 (on by default when a range is given)')
    .option('--no-dhcp4', 'managed: do not serve DHCPv4')
    .option('--dhcp4-start <address>', 'managed: first address of the DHCP range')
    .option('--dhcp4-end <address>', 'managed: last address of the DHCP range')
    .option('--ipv6 <subnet>', 'managed: the IPv6 subnet, e.g. fd00:100::/64')
    .option('--gateway6 <address>', 'managed: the IPv6 gateway (default <subnet>::1)')
    .option('--dhcp6', 'managed: serve stateless DHCPv6 with the DNS settings (needs a /64, which gets router advertisements either way)')
    .option('--no-dhcp6', 'managed: do not serve DHCPv6')
    .option('--name-server <address>', 'managed: a name server DHCP hands out (repeat for more; default the gateway)', collect)
    .option('--firewall-in <policy>', 'managed: accept or drop traffic towards its VMs that no acl matched (default accept)')
    .option('--firewall-out <policy>', 'managed: accept or drop traffic from its VMs that no acl matched (default accept)');
  if (forModify) {
    command
      .option('--remove-ipv4', 'managed: remove the IPv4 subnet (and its DHCP)')
      .option('--remove-ipv6', 'managed: remove the IPv6 subnet')
      .option('--clear-name-servers', 'managed: hand out the gateway as name server again');
  } else {
    command.option('--type <type>', 'managed or bridged', 'managed');
  }
  return command.option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT);
}

const RULES_HELP =
  '\nRefused, naming the value: a vni or vlan whose bridge vmbrN another network has, a subnet that\n' +
  'overlaps another managed network\'s, a gateway outside its subnet (or its network or broadcast\n' +
  'address), a DHCP range outside the subnet or holding the gateway. Nothing is written then.\n';

function registerAdd(network: Command): void {
  specOptions(network.command('add'), false)
    .description('add a managed or bridged network')
    .argument('<network>', 'network name (what VM NICs name)')
    .addHelpText(
      'after',
      RULES_HELP +
        examples([
          'pvc network add prod --vni 100 --ipv4 10.100.0.0/24 --dhcp4-start 10.100.0.100 --dhcp4-end 10.100.0.199',
          'pvc network add lab --vni 101 --ipv4 10.101.0.0/24 --gateway4 10.101.0.254 --ipv6 fd00:101::/64 --dhcp6 --firewall-in drop',
          'pvc network add uplink --type bridged --vlan 200 --device eno2 --format json',
        ]),
    )
    .action(async (name: string, options: NetworkCliOptions & FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertName('network', name);
      const draft = networkDraftOf(name, options);
      const client = import('../common/client/network-write.ts');
      const result = await withClient(command, async (c) => (await client).addNetwork(c, draft));
      await render(result, format, () => networkWriteText('added', result));
    });
}

function registerModify(network: Command): void {
  specOptions(network.command('modify'), true)
    .description('change some fields of a network')
    .argument('<network>', 'network name')
    .addHelpText(
      'after',
      '\nOnly the options given change; the name and type cannot. A new subnet must still hold the\n' +
        "network's DHCP reservations. Changing nothing is not an error (reported as unchanged).\n" +
        RULES_HELP +
        examples(['pvc network modify prod --description "production"', 'pvc network modify prod --no-dhcp4', 'pvc network modify prod --ipv6 fd00:100::/64 --dhcp6', 'pvc network modify prod --remove-ipv6']),
    )
    .action(async (name: string, options: NetworkCliOptions & FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertName('network', name);
      const patch = networkPatchOf(options);
      const client = import('../common/client/network-write.ts');
      const result = await withClient(command, async (c) => (await client).modifyNetwork(c, name, patch));
      await render(result, format, () => networkWriteText('modified', result));
    });
}

function registerRemove(network: Command): void {
  network
    .command('remove')
    .description('remove a network no VM uses, with its DHCP reservations, leases and acls')
    .argument('<network>', 'network name')
    .option('--yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nRefused while a VM has a NIC on it (the VMs are named).\n' + examples(['pvc network remove lab', 'pvc network remove lab --yes --format json']))
    .action(async (name: string, options: FormatOptions & { yes?: boolean }, command: Command) => {
      const format = parseFormat(options.format);
      assertName('network', name);
      if (!options.yes) {
        const answer = await confirm(`remove network ${name} with its dhcp reservations and acls?`);
        if (answer === null) throw new PvcError('refused', `not removing network ${name} without confirmation: give --yes`);
        if (!answer) throw new PvcError('refused', `network ${name} not removed`);
      }
      const client = import('../common/client/network-write.ts');
      const result = await withClient(command, async (c) => (await client).removeNetwork(c, name));
      await render(result, format, () => `removed network ${name} (${result.removedReservations} dhcp reservations, ${result.removedAcls} acls)`);
    });
}

function registerList(network: Command): void {
  network
    .command('list')
    .description('list the networks')
    .option('--type <type>', 'only managed or only bridged networks')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nID is the vni (managed) or the vlan (bridged).\n' + examples(['pvc network list', 'pvc network list --type managed --format json']))
    .action(async (options: FormatOptions & { type?: string }, command: Command) => {
      const format = parseFormat(options.format);
      const type = options.type;
      if (type !== undefined && type !== 'managed' && type !== 'bridged') throw new PvcError('bad-input', `invalid --type ${JSON.stringify(type)}: use managed or bridged`);
      const client = import('../common/client/network-views.ts');
      const networks = await withClient(command, async (c) => (await client).listNetworks(c, type));
      await render(networks, format, () => networkListTable(networks, type !== undefined));
    });
}

function registerInfo(network: Command): void {
  network
    .command('info')
    .description('show one network: its spec, bridge, counts of reservations, leases and acls, and its VMs')
    .argument('<network>', 'network name')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc network info prod', 'pvc network info prod --format yaml']))
    .action(async (name: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertName('network', name);
      const client = import('../common/client/network-views.ts');
      const info = await withClient(command, async (c) => (await client).networkInfo(c, name));
      await render(info, format, () => networkInfoTable(info));
    });
}
