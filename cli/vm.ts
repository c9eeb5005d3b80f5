// pvc vm: define, modify, remove, list, info, dump, start, stop, shutdown, restart, disable,
// migrate, unmigrate, move (cli/vm-move.ts), log.
// A thin shell over common/client/vm-*.ts: arguments are checked here (so a typo is reported
// without connecting), the client module a command needs is loaded only when it runs (its import
// starts before the connection is opened, so the two overlap), and results go through output.ts.
import type { Command } from 'commander';
import { PvcError } from '../common/errors.ts';
import { assertName } from '../common/names.ts';
import { withClient } from './context.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, confirm, examples, parseFormat, print, render } from './output.ts';
import { parseCount, readDefinitionFile, waitMsOf } from './vm-args.ts';
import { registerMoves } from './vm-move.ts';
import { defineText, modifyText, removeText, setStateText, vmInfoTable, vmListTable } from './vm-tables.ts';

/** How long --wait waits by default: covers a guest's ACPI shutdown timeout and a slow start. */
export const DEFAULT_VM_WAIT_MS = 120_000;
/** Mirrors VM_WAIT_MAX_MS of the client, without loading it before the command runs. */
const VM_WAIT_MAX_MS = 3_600_000;
/** Mirror DEFAULT_LOG_LINES and LOG_LINES_MAX of common/client/vm-log.ts. */
const DEFAULT_LOG_LINES = 1_000;
const LOG_LINES_MAX = 100_000;

interface FormatOptions {
  format: string;
}

const STATE_COMMANDS = {
  start: {
    description: 'start a VM on its node (and retry a VM in fail)',
    detail: 'The VM gets a node from placement first if it has none. A VM in fail has its status\ncleared so that its node tries again; --wait then reports the new outcome.',
  },
  stop: { description: 'stop a VM at once (power off, no guest shutdown)', detail: 'The domain is destroyed: like pulling the plug.' },
  shutdown: {
    description: 'shut a VM down gracefully (ACPI power button)',
    detail: "The guest gets the ACPI power button; a guest still running after its node's shutdown\ntimeout is powered off. The status ends in shutdown.",
  },
  restart: {
    description: 'restart a VM: shut it down gracefully, then start it again',
    detail: 'A stopped VM is simply started. Applies a modified spec to a running VM.',
  },
  disable: {
    description: 'shut a VM down and keep it down',
    detail: 'Like shutdown, and the VM is not started by autostart nor moved back by `pvc node ready`.',
  },
} as const;

export function registerVm(program: Command): void {
  const vm = program
    .command('vm')
    .description('define, run and inspect virtual machines')
    .addHelpText(
      'after',
      examples(['pvc vm define web1.yaml --start', 'pvc vm list --state start', 'pvc vm info web1 --format json', 'pvc vm stop web1 --wait', 'pvc vm log web1 --lines 50']),
    );
  registerDefine(vm);
  registerModify(vm);
  registerRemove(vm);
  registerList(vm);
  registerInfo(vm);
  registerDump(vm);
  for (const action of Object.keys(STATE_COMMANDS) as Array<keyof typeof STATE_COMMANDS>) registerState(vm, action);
  registerMoves(vm);
  registerLog(vm);
}

function registerDefine(vm: Command): void {
  vm.command('define')
    .description('define a new VM from a YAML or JSON definition file')
    .argument('<file>', "definition file, or '-' for stdin")
    .option('--node <node>', 'pin the VM to this node (default: the definition\'s node, else placement chooses)')
    .option('--start', 'start it once defined (default: the definition\'s desiredState, else stop)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nThe definition holds the VM spec: name, vcpus, memoryMiB, disks, nics, boot, serial, placement,\n' +
        'tags, desiredState (start, stop or disable), node, or rawXml instead of disks/nics/boot. A\n' +
        'missing uuid or NIC mac is made up. A name that exists, or an unknown node, is refused.\n' +
        'Example file:\n  name: web1\n  vcpus: 2\n  memoryMiB: 2048\n  disks: [{target: vda, source: {type: file, path: /srv/img/web1.img}}]\n  tags: [web]\n' +
        examples(['pvc vm define web1.yaml', 'pvc vm define web1.yaml --node hv1 --start', 'cat web1.json | pvc vm define - --format json']),
    )
    .action(async (file: string, options: FormatOptions & { node?: string; start?: boolean }, command: Command) => {
      const format = parseFormat(options.format);
      if (options.node !== undefined) assertName('node', options.node);
      const [{ DEFINITION_MAX_BYTES }, client] = await Promise.all([import('../common/vm/define.ts'), import('../common/client/vm-define.ts')]);
      const spec = client.prepareVmSpec(readDefinitionFile(file, DEFINITION_MAX_BYTES), { node: options.node, state: options.start ? 'start' : undefined });
      const result = await withClient(command, (c) => client.createVm(c, spec));
      await render({ name: result.name, uuid: result.uuid, node: result.node, desiredState: result.desiredState }, format, () => defineText(result));
    });
}

function registerModify(vm: Command): void {
  vm.command('modify')
    .description("replace a VM's definition with a new one")
    .argument('<vm>', 'vm name')
    .argument('<file>', "definition file, or '-' for stdin")
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      "\nThe whole spec is replaced. The uuid, node, lastNode and desired state are kept unless the\n" +
        'definition gives them; a NIC without a mac keeps the mac of the NIC at its place. The name\n' +
        'and uuid cannot change. A running VM is modified too: its node renders the domain when it\n' +
        "starts it, so the change takes effect at the next start (`pvc vm restart VM` applies it now).\n" +
        '`pvc vm dump VM --spec` prints a definition that can be edited and given back.\n' +
        examples(['pvc vm modify web1 web1.yaml', 'pvc vm dump web1 --spec > web1.yaml && $EDITOR web1.yaml && pvc vm modify web1 web1.yaml']),
    )
    .action(async (name: string, file: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertName('vm', name);
      const [{ DEFINITION_MAX_BYTES }, client] = await Promise.all([import('../common/vm/define.ts'), import('../common/client/vm-modify.ts')]);
      const text = readDefinitionFile(file, DEFINITION_MAX_BYTES);
      const result = await withClient(command, (c) => client.modifyVm(c, name, text));
      await render({ name: result.name, changed: result.changed, takesEffectAtNextStart: result.takesEffectAtNextStart }, format, () => modifyText(result));
    });
}

function registerRemove(vm: Command): void {
  vm.command('remove')
    .description('remove a VM that is not running')
    .argument('<vm>', 'vm name')
    .option('--yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nRefused while the VM may run: its node must report stop, shutdown, disable or fail (or no\n' +
        'node has reported it yet). Its disks are not touched.\n' +
        examples(['pvc vm remove web1', 'pvc vm stop web1 --wait && pvc vm remove web1 --yes']),
    )
    .action(async (name: string, options: FormatOptions & { yes?: boolean }, command: Command) => {
      const format = parseFormat(options.format);
      assertName('vm', name);
      if (!options.yes) {
        const answer = await confirm(`remove vm ${name}?`);
        if (answer === null) throw new PvcError('refused', `not removing vm ${name} without confirmation: give --yes`);
        if (!answer) throw new PvcError('refused', `vm ${name} not removed`);
      }
      const client = import('../common/client/vm-remove.ts');
      const result = await withClient(command, async (c) => (await client).removeVm(c, name));
      await render(result, format, () => removeText(result));
    });
}

function registerList(vm: Command): void {
  vm.command('list')
    .description('list the VMs with their state, node and size')
    .option('--node <node>', 'only VMs assigned to this node')
    .option('--state <state>', 'only VMs shown in this state (a vm state, unplaced or pending)')
    .option('--tag <tag>', 'only VMs with this tag')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nSTATE is what its node reports; before that, unplaced (no node yet: REASON says why) or\n' +
        'pending (its node has not reported it yet). REASON is a failure or unplaced reason.\n' +
        examples(['pvc vm list', 'pvc vm list --node hv1 --state start', 'pvc vm list --tag web --format json']),
    )
    .action(async (options: FormatOptions & { node?: string; state?: string; tag?: string }, command: Command) => {
      const format = parseFormat(options.format);
      const [{ parseVmListFilter }, { listVms }] = await Promise.all([import('../common/client/vm-views.ts'), import('../common/client/vm-list.ts')]);
      const filter = parseVmListFilter(options);
      const vms = await withClient(command, (c) => listVms(c, filter));
      await render(vms, format, () => vmListTable(vms, Object.keys(filter).length > 0));
    });
}

function registerInfo(vm: Command): void {
  vm.command('info')
    .description('show everything known about one VM')
    .argument('<vm>', 'vm name')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc vm info web1', 'pvc vm info web1 --format yaml']))
    .action(async (name: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertName('vm', name);
      const client = import('../common/client/vm-list.ts');
      const view = await withClient(command, async (c) => (await client).vmInfo(c, name));
      await render(view, format, () => vmInfoTable(view));
    });
}

function registerDump(vm: Command): void {
  vm.command('dump')
    .description('print the libvirt domain XML of a VM, as its node renders it')
    .argument('<vm>', 'vm name')
    .option('--spec', 'print the stored spec as YAML instead (a definition for `pvc vm modify`)')
    .addHelpText(
      'after',
      '\nThe XML needs the node: a VM that has none yet is refused (--spec works for it).\n' +
        examples(['pvc vm dump web1', 'pvc vm dump web1 --spec > web1.yaml']),
    )
    .action(async (name: string, options: { spec?: boolean }, command: Command) => {
      assertName('vm', name);
      const client = import('../common/client/vm-dump.ts');
      if (options.spec) {
        const spec = await withClient(command, async (c) => (await client).vmSpec(c, name));
        await render(spec, 'yaml', () => '');
        return;
      }
      print(await withClient(command, async (c) => (await client).dumpVm(c, name)));
    });
}

function registerState(vm: Command, action: keyof typeof STATE_COMMANDS): void {
  const { description, detail } = STATE_COMMANDS[action];
  vm.command(action)
    .description(description)
    .argument('<vm>', 'vm name')
    .option('--wait', `wait until its node reports the VM ${action === 'restart' ? 'started again' : `in ${action}`} (up to ${DEFAULT_VM_WAIT_MS} ms)`)
    .option('--wait-ms <ms>', 'wait this long instead (implies --wait; 0: do not wait)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      `\n${detail}\nWithout --wait pvc returns once the desired state is written. With it, pvc exits 1 if the\n` +
        'VM fails (with the reason), and 2 if the wait runs out (the request stays).\n' +
        examples([`pvc vm ${action} web1`, `pvc vm ${action} web1 --wait`, `pvc vm ${action} web1 --wait-ms 300000 --format json`]),
    )
    .action(async (name: string, options: FormatOptions & { wait?: boolean; waitMs?: string }, command: Command) => {
      const format = parseFormat(options.format);
      const waitMs = waitMsOf(options, DEFAULT_VM_WAIT_MS, VM_WAIT_MAX_MS);
      assertName('vm', name);
      const client = import('../common/client/vm-state.ts');
      const result = await withClient(command, async (c) => (await client).setVmState(c, name, action, { waitMs }));
      await render(result, format, () => setStateText(result));
    });
}

function registerLog(vm: Command): void {
  vm.command('log')
    .description("print the end of a VM's serial console log")
    .argument('<vm>', 'vm name')
    .option('--lines <n>', `how many lines from the end (1-${LOG_LINES_MAX})`, String(DEFAULT_LOG_LINES))
    .addHelpText(
      'after',
      "\nThe log is <consoleLogDir>/<vm>.log on the VM's node (consoleLogDir as its pvcd reports it),\n" +
        'read from this machine: run it on that node (on the local cluster every node is this machine).\n' +
        examples(['pvc vm log web1', 'pvc vm log web1 --lines 20']),
    )
    .action(async (name: string, options: { lines: string }, command: Command) => {
      const lines = parseCount('--lines', options.lines, 1, LOG_LINES_MAX);
      assertName('vm', name);
      const client = import('../common/client/vm-log.ts');
      const log = await withClient(command, async (c) => (await client).vmLog(c, name, { lines }));
      print(log.text);
    });
}
