// pvc node fence, pvc cluster maintenance on|off, pvc cluster fault list|ack: the operator's
// controls of high availability (the fencing itself runs on the primary).
import type { Command } from 'commander';
import { PvcError } from '../common/errors.ts';
import { assertName } from '../common/names.ts';
import { withClient } from './context.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, formatFields, formatTable, parseFormat, render } from './output.ts';

interface FaultRow {
  id: string;
  kind: string;
  node: string | null;
  message: string;
  atMs: number;
  ackedAtMs?: number | null;
}

export function faultTable(faults: readonly FaultRow[]): string {
  return formatTable(
    [
      { header: 'FAULT', value: (f: FaultRow) => f.id },
      { header: 'AT', value: (f) => new Date(f.atMs).toISOString() },
      { header: 'KIND', value: (f) => f.kind },
      { header: 'NODE', value: (f) => f.node },
      { header: 'ACKED', value: (f) => (f.ackedAtMs === undefined ? null : f.ackedAtMs === null ? 'no' : 'yes') },
      { header: 'MESSAGE', value: (f) => f.message },
    ],
    faults,
  );
}

export function registerNodeFence(node: Command): void {
  node
    .command('fence')
    .description('fence a node now: power it off through its BMC, blocklist its Ceph clients, restart its VMs elsewhere')
    .argument('<node>', 'node name')
    .option('--reason <text>', 'why, for the fault log', 'fenced by hand (pvc node fence)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nThe primary carries the fence out (also while maintenance is on). The node stays in daemon\nstate fenced until `pvc node ready NODE` once it runs again.\n' +
        examples(['pvc node fence hv2', 'pvc node fence hv2 --reason "disk controller errors"']),
    )
    .action(async (name: string, options: { reason: string; format: string }, command: Command) => {
      const format = parseFormat(options.format);
      assertName('node', name);
      const { requestFence } = await import('../common/client/ha.ts');
      const fence = await withClient(command, (client) => requestFence(client.store, client.layout, name, options.reason));
      await render(fence, format, () => `node ${name}: fence requested; the primary powers it off and restarts its vms elsewhere (pvc node info ${name} shows the steps)`);
    });
}

export function registerClusterHa(cluster: Command): void {
  cluster
    .command('maintenance')
    .description('suspend (on) or resume (off) automatic fencing of dead nodes')
    .argument('<on|off>', 'on or off')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nA fence already under way is finished; `pvc node fence` still works.\n' + examples(['pvc cluster maintenance on', 'pvc cluster maintenance off']))
    .action(async (value: string, options: { format: string }, command: Command) => {
      const format = parseFormat(options.format);
      if (value !== 'on' && value !== 'off') throw new PvcError('bad-input', `maintenance must be on or off, got ${JSON.stringify(value)}`);
      const { setMaintenance } = await import('../common/client/ha.ts');
      const doc = await withClient(command, (client) => setMaintenance(client.store, client.layout, value === 'on'));
      await render(doc, format, () => formatFields([['maintenance', doc.on ? 'on (no automatic fencing)' : 'off']]));
    });

  const fault = cluster
    .command('fault')
    .description('list and acknowledge the fault log (fences, recoveries, failures)')
    .addHelpText('after', examples(['pvc cluster fault list', 'pvc cluster fault ack --all']));
  fault
    .command('list')
    .description('list faults, oldest first')
    .option('--all', 'also list acknowledged faults')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc cluster fault list', 'pvc cluster fault list --all --format json']))
    .action(async (options: { all?: boolean; format: string }, command: Command) => {
      const format = parseFormat(options.format);
      const { listFaults } = await import('../common/client/ha.ts');
      const all = await withClient(command, (client) => listFaults(client.store, client.layout));
      const shown = options.all ? all : all.filter((f) => f.ackedAtMs === null);
      await render(shown, format, () => (shown.length === 0 ? 'no faults' : faultTable(shown)));
    });
  fault
    .command('ack')
    .description('acknowledge faults (by id, or --all) so that cluster status stops showing them')
    .argument('[ids...]', 'fault ids, as `fault list` shows them')
    .option('--all', 'acknowledge every fault')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc cluster fault ack mi2x0k1a-3f2e9b10', 'pvc cluster fault ack --all']))
    .action(async (ids: string[], options: { all?: boolean; format: string }, command: Command) => {
      const format = parseFormat(options.format);
      if (!options.all && ids.length === 0) throw new PvcError('bad-input', 'name the faults to acknowledge, or give --all');
      if (options.all && ids.length > 0) throw new PvcError('bad-input', 'give fault ids or --all, not both');
      for (const id of ids) assertName('fault', id);
      const { ackFaults } = await import('../common/client/ha.ts');
      const changed = await withClient(command, (client) => ackFaults(client.store, client.layout, options.all ? 'all' : ids));
      await render({ acknowledged: changed }, format, () => `acknowledged ${changed.length} fault(s)`);
    });
}
