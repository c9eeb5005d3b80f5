// pvc node: list, info, primary, secondary, flush, ready.
import type { Command } from 'commander';
import type { HandoverResult } from '../common/client/handover.ts';
import type { NodeView } from '../common/client/views.ts';
import { assertName } from '../common/names.ts';
import { parseMs } from './args.ts';
import { waitMsOf } from './vm-args.ts';
import { withClient } from './context.ts';
import { registerNodeFence } from './ha.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, formatFields, formatTable, parseFormat, printProgress, render, type Column } from './output.ts';

/** How long `pvc node primary|secondary` waits for the handover by default. */
export const DEFAULT_HANDOVER_WAIT_MS = 30_000;
/** Mirrors HANDOVER_WAIT_MAX_MS of the client, without loading it before the command runs. */
const HANDOVER_WAIT_MAX_MS = 3_600_000;

interface FormatOptions {
  format: string;
}

interface HandoverCliOptions extends FormatOptions {
  waitMs: string;
}

const NODE_COLUMNS: Column<NodeView>[] = [
  { header: 'NAME', value: (n) => n.name },
  { header: 'ROLE', value: (n) => n.role },
  { header: 'DAEMON', value: (n) => n.daemonState },
  { header: 'COORDINATOR', value: (n) => n.coordinatorState },
  { header: 'DOMAIN', value: (n) => n.domainState },
  { header: 'PVCD', value: (n) => n.pvcdVersion },
  { header: 'CORES', value: (n) => n.host?.cores, align: 'right' },
  { header: 'LOAD', value: (n) => n.host?.loadAvg[0].toFixed(2), align: 'right' },
  { header: 'MEM USED/TOTAL MiB', value: (n) => (n.host ? `${n.host.memoryUsedMiB}/${n.host.memoryTotalMiB}` : null), align: 'right' },
];

export function nodeListTable(nodes: readonly NodeView[]): string {
  return nodes.length === 0 ? 'no nodes registered yet' : formatTable(NODE_COLUMNS, nodes);
}

export function nodeInfoTable(node: NodeView): string {
  const reported = node.reportedDaemonState !== null && node.reportedDaemonState !== node.daemonState ? ` (reports ${node.reportedDaemonState})` : '';
  return formatFields([
    ['name', node.name],
    ['role', node.role],
    ['daemon state', `${node.daemonState}${reported}`],
    ['coordinator state', node.coordinatorState],
    ['domain state', node.domainState],
    ['hypervisor', node.hypervisor ? `${node.hypervisor.uri} (${node.hypervisor.cpus} cpus, ${node.hypervisor.memoryMiB} MiB)` : 'none'],
    ['alive', node.alive],
    ['bmc', node.bmc ? `${node.bmc.host}:${node.bmc.port} (user ${node.bmc.username})` : 'none'],
    ['pvcd version', node.pvcdVersion],
    ['pid', node.pid],
    ['cores', node.host?.cores],
    ['load average', node.host?.loadAvg.map((l) => l.toFixed(2)).join(' ')],
    ['memory MiB', node.host ? `${node.host.memoryUsedMiB} used, ${node.host.memoryFreeMiB} free, ${node.host.memoryTotalMiB} total` : null],
    ['uptime s', node.host?.uptimeS],
    ['status written at', node.updatedAtMs === null ? null : new Date(node.updatedAtMs).toISOString()],
    ...(node.deadReason ? [['why ' + node.daemonState, node.deadReason] as const] : []),
  ]);
}

export function handoverText(result: HandoverResult, wanted: 'primary' | 'secondary'): string {
  if (result.outcome === 'already') {
    return wanted === 'primary'
      ? `node ${result.node} is already primary; nothing changed`
      : `node ${result.node} is already secondary (primary: ${result.primary ?? 'none'}); nothing changed`;
  }
  const replaced = result.replacedRequest
    ? `\nreplaced the pending request {from: ${result.replacedRequest.from}, to: ${result.replacedRequest.to ?? 'null'}}`
    : '';
  if (result.outcome === 'requested') {
    return `requested handover from ${result.previousPrimary ?? 'none'} to ${result.request?.to ?? 'the next candidate'}; not waiting${replaced}`;
  }
  return `node ${result.primary ?? 'none'} is primary now (was ${result.previousPrimary ?? 'none'}), after ${result.elapsedMs} ms${replaced}`;
}

export function registerNode(program: Command): void {
  const node = program
    .command('node')
    .description('show the nodes of the cluster and move the primary coordinator role')
    .addHelpText('after', examples(['pvc node list', 'pvc node info hv1 --format json', 'pvc node primary coord2', 'pvc node secondary coord1 --wait-ms 60000']));

  node
    .command('list')
    .description('list every node with its daemon and coordinator state')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nA node whose status says init, run or shutdown but whose pvcd holds no ZooKeeper session\nis shown as dead; only the holder of the primary lock is shown as primary.\n' +
        examples(['pvc node list', 'pvc node list --format json', 'pvc --connection lab node list --format yaml']),
    )
    .action(async (options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const nodes = await withClient(command, (client) => client.listNodes());
      await render(nodes, format, () => nodeListTable(nodes));
    });

  node
    .command('info')
    .description('show everything known about one node')
    .argument('<node>', 'node name')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc node info hv1', 'pvc node info coord1 --format json']))
    .action(async (name: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertName('node', name); // checked here so that a typo is reported without connecting
      const view = await withClient(command, (client) => client.nodeInfo(name));
      await render(view, format, () => nodeInfoTable(view));
    });

  handoverCommand(node, 'primary');
  handoverCommand(node, 'secondary');
  domainCommand(node, 'flush');
  domainCommand(node, 'ready');
  registerNodeFence(node);
}

/** How long `pvc node flush|ready --wait` waits by default: a few live migrations in a row. */
export const DEFAULT_DOMAIN_WAIT_MS = 300_000;

interface DomainCliOptions extends FormatOptions {
  wait?: boolean;
  waitMs?: string;
}

function domainCommand(node: Command, wanted: 'flush' | 'ready'): void {
  const detail =
    wanted === 'flush'
      ? '\nThe primary gives each running VM of the node another node (by its selector) and the VM\nmoves by live migration, or by stop and start when its migration method says so; stopped\nVMs stay. The VMs remember the node (lastNode) for `pvc node ready`.'
      : '\nVMs that a flush moved away come back (unmigrate), and stopped VMs of the node marked\nautostart are started.';
  node
    .command(wanted)
    .description(wanted === 'flush' ? 'move every running VM off a node, for maintenance' : 'let a flushed node take VMs again and bring its VMs back')
    .argument('<node>', 'node name')
    .option('--wait', 'wait until the VMs have moved')
    .option('--wait-ms <ms>', 'wait this long instead (implies --wait; 0: do not wait)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', `${detail}\nOn a --wait timeout the request stands and pvc exits with status 2.\n` + examples([`pvc node ${wanted} hv1`, `pvc node ${wanted} hv1 --wait`]))
    .action(async (name: string, options: DomainCliOptions, command: Command) => {
      const format = parseFormat(options.format);
      const waitMs = waitMsOf(options, DEFAULT_DOMAIN_WAIT_MS, HANDOVER_WAIT_MAX_MS);
      assertName('node', name);
      const { setNodeDomainState } = await import('../common/client/node-domain.ts');
      const { returnFencedNode } = await import('../common/client/ha.ts');
      const result = await withClient(command, async (client) => {
        // A fenced node returns to service first (its pvcd must run again), then takes its VMs back.
        if (wanted === 'ready' && (await returnFencedNode(client.store, client.layout, name))) printProgress(`node ${name}: fence record removed; the node leaves daemon state fenced`);
        return setNodeDomainState(client.store, client.layout, name, wanted, { waitMs, onProgress: printProgress });
      });
      await render(result, format, () => {
        const moved = wanted === 'ready' ? `; ${result.returning.length} vm(s) coming back, ${result.autostarted.length} autostarted` : '';
        return `node ${name}: ${wanted === 'flush' ? (result.done ? 'flushed' : 'flush requested') : result.done ? 'ready, vms back' : 'ready requested'}${moved} (${result.elapsedMs} ms)`;
      });
    });
}

function handoverCommand(node: Command, wanted: 'primary' | 'secondary'): void {
  const description =
    wanted === 'primary'
      ? 'make a coordinator the primary: the current primary hands over to it'
      : 'make the primary coordinator step down in favour of the next candidate';
  const detail =
    wanted === 'primary'
      ? '\nThe node must be a coordinator whose pvcd is alive and in run state. If it is already\nprimary nothing changes.'
      : '\nAnother coordinator must be in the election to take over. If the node is not primary\nnothing changes.';
  node
    .command(wanted)
    .description(description)
    .argument('<node>', 'coordinator node name')
    .option('--wait-ms <ms>', `how long to wait for the handover to happen (0: do not wait)`, String(DEFAULT_HANDOVER_WAIT_MS))
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      `${detail}\nOn timeout the request stays pending and pvc exits with status 2.\n` +
        examples(wanted === 'primary' ? ['pvc node primary coord2', 'pvc node primary coord2 --wait-ms 0'] : ['pvc node secondary coord1', 'pvc node secondary coord1 --wait-ms 60000 --format json']),
    )
    .action(async (name: string, options: HandoverCliOptions, command: Command) => {
      const format = parseFormat(options.format);
      const waitMs = parseMs('--wait-ms', options.waitMs, 0, HANDOVER_WAIT_MAX_MS);
      assertName('node', name);
      const result = await withClient(command, (client) =>
        wanted === 'primary' ? client.requestPrimary(name, { waitMs }) : client.requestSecondary(name, { waitMs }),
      );
      await render(result, format, () => handoverText(result, wanted));
    });
}
