// pvc cluster: status, set.
import type { Command } from 'commander';
import type { ClusterStatusView } from '../common/client/views.ts';
import { PvcError } from '../common/errors.ts';
import { registerClusterNetwork } from './cluster-network.ts';
import { faultTable, registerClusterHa } from './ha.ts';
import { withClient } from './context.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, formatFields, formatTable, parseFormat, render } from './output.ts';

export function clusterStatusTable(status: ClusterStatusView): string {
  const states = Object.entries(status.nodes.byDaemonState)
    .filter(([, count]) => count > 0)
    .map(([state, count]) => `${count} ${state}`)
    .join(', ');
  const fields = formatFields([
    ['cluster', status.cluster],
    ['schema version', status.schemaVersion],
    ['primary', status.primary ?? 'none (election in progress)'],
    ['nodes', `${status.nodes.total} (${status.nodes.coordinators} coordinators, ${status.nodes.hypervisors} hypervisors)`],
    ['daemon states', states],
    ['default vm selector', status.defaultVmSelector],
    ...(status.maintenance === undefined ? [] : [['maintenance', status.maintenance ? 'on (no automatic fencing)' : 'off'] as const]),
    ...(status.faults === undefined ? [] : [['faults', status.faults.length ? `${status.faults.length} not acknowledged (pvc cluster fault list)` : 'none'] as const]),
  ]);
  const servers = formatTable(
    [
      { header: 'ZOOKEEPER SERVER', value: (s: ClusterStatusView['zookeeper'][number]) => s.server },
      { header: 'MODE', value: (s) => s.mode },
    ],
    status.zookeeper,
  );
  return `${fields}\n\n${servers}${status.faults?.length ? `\n\n${faultTable(status.faults)}` : ''}`;
}

export function registerCluster(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('show the state of the whole cluster')
    .addHelpText('after', examples(['pvc cluster status', 'pvc cluster status --format json']));

  cluster
    .command('status')
    .description('show the primary, node counts by state and the ZooKeeper servers with their mode')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nEach ZooKeeper server of the connection is asked for its mode (leader, follower or\nstandalone; not-serving without a quorum) with the srvr four-letter word; one that\ndoes not answer in time is shown unreachable.\n' +
        examples(['pvc cluster status', 'pvc cluster status --format yaml', 'pvc --connection lab cluster status']),
    )
    .action(async (options: { format: string }, command: Command) => {
      const format = parseFormat(options.format);
      const status = await withClient(command, (client) => client.clusterStatus());
      await render(status, format, () => clusterStatusTable(status));
    });

  cluster
    .command('set')
    .description('change cluster-wide settings (the default VM selector)')
    .option('--default-vm-selector <selector>', 'placement for VMs that name no selector: mem, memprov, vcpus, load or vms')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nmem: most free memory; memprov: least memory provisioned; vcpus: fewest vCPUs allocated;\nload: lowest load; vms: fewest VMs. It applies to placements from now on; placed VMs stay.\n' +
        examples(['pvc cluster set --default-vm-selector memprov', 'pvc cluster set --default-vm-selector mem --format json']),
    )
    .action(async (options: { format: string; defaultVmSelector?: string }, command: Command) => {
      const format = parseFormat(options.format);
      const { parseVmSelector, setClusterSettings } = await import('../common/client/cluster-settings.ts');
      if (options.defaultVmSelector === undefined) throw new PvcError('bad-input', 'nothing to set: give --default-vm-selector');
      const selector = parseVmSelector(options.defaultVmSelector);
      const settings = await withClient(command, (client) => setClusterSettings(client.store, client.layout, { defaultVmSelector: selector }));
      await render(settings, format, () => formatFields([['default vm selector', settings.defaultVmSelector]]));
    });
  registerClusterNetwork(cluster);
  registerClusterHa(cluster);
}
