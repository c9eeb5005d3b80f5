// pvc cluster: status.
import type { Command } from 'commander';
import type { ClusterStatusView } from '../common/client/views.ts';
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
  ]);
  const servers = formatTable(
    [
      { header: 'ZOOKEEPER SERVER', value: (s: ClusterStatusView['zookeeper'][number]) => s.server },
      { header: 'MODE', value: (s) => s.mode },
    ],
    status.zookeeper,
  );
  return `${fields}\n\n${servers}`;
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
}
