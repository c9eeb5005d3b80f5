// pvc vm migrate | unmigrate | move: a thin shell over common/client/vm-move.ts.
import type { Command } from 'commander';
import { assertName } from '../common/names.ts';
import type { MoveKind, MoveResult } from '../common/client/vm-move.ts';
import { withClient } from './context.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, parseFormat, printProgress, render } from './output.ts';
import { waitMsOf } from './vm-args.ts';

/** A live migration of a small guest takes seconds; a shutdown-and-start move takes the guest's shutdown time. */
export const DEFAULT_MOVE_WAIT_MS = 300_000;
const MOVE_WAIT_MAX_MS = 3_600_000;

const MOVES: Record<MoveKind, { description: string; detail: string; target: boolean }> = {
  migrate: {
    description: 'move a VM to another node for now (it remembers where it came from)',
    detail: 'Without --target the node is chosen as placement would, leaving out the current one. The VM\nmoves live when its migration method is live (falling back to shutdown and start if that\nfails), else by shutdown and start. `pvc vm unmigrate` sends it back.',
    target: true,
  },
  unmigrate: { description: 'send a migrated VM back to the node it came from', detail: 'Refused for a VM that was not migrated (it has no last node).', target: false },
  move: { description: 'move a VM to another node for good', detail: 'Like migrate, but the VM forgets where it came from.', target: true },
};

export function registerMoves(vm: Command): void {
  for (const kind of Object.keys(MOVES) as MoveKind[]) registerMove(vm, kind);
}

function registerMove(vm: Command, kind: MoveKind): void {
  const { description, detail, target } = MOVES[kind];
  const command = vm.command(kind).description(description).argument('<vm>', 'vm name');
  if (target) command.option('--target <node>', 'the node to move to (default: chosen by the selector)');
  command
    .option('--wait', `wait until the VM runs on its new node (up to ${DEFAULT_MOVE_WAIT_MS} ms)`)
    .option('--wait-ms <ms>', 'wait this long instead (implies --wait; 0: do not wait)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      `\n${detail}\nWith --wait pvc exits 1 if the VM fails on its new node, 2 if the wait runs out (the move goes on).\n` +
        examples(target ? [`pvc vm ${kind} web1 --wait`, `pvc vm ${kind} web1 --target hv2`] : [`pvc vm ${kind} web1 --wait`]),
    )
    .action(async (name: string, options: { format: string; target?: string; wait?: boolean; waitMs?: string }, cmd: Command) => {
      const format = parseFormat(options.format);
      const waitMs = waitMsOf(options, DEFAULT_MOVE_WAIT_MS, MOVE_WAIT_MAX_MS);
      assertName('vm', name);
      if (options.target !== undefined) assertName('node', options.target);
      const client = import('../common/client/vm-move.ts');
      const result = await withClient(cmd, async (c) => (await client).moveVm(c.store, c.layout, name, kind, { target: options.target, waitMs, onProgress: printProgress }));
      await render(result, format, () => moveText(kind, result));
    });
}

export function moveText(kind: MoveKind, result: MoveResult): string {
  const how = result.done ? `runs on ${result.to} now` : `asked to go to ${result.to}; not waiting`;
  return `vm ${result.vm} (${kind} from ${result.from ?? 'none'}): ${how} (${result.elapsedMs} ms)`;
}
