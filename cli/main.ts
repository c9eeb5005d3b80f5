// pvc: the command line, a thin shell over common/client. This file builds the program, owns
// the global options and turns every failure into `pvc: <message>` on stderr and an exit code:
// 0 ok, 1 bad input or refused, 2 cluster unreachable (or a wait that timed out).
import { Command, CommanderError } from 'commander';
import { EXIT_BAD_INPUT_OR_REFUSED, EXIT_OK, EXIT_UNREACHABLE, PvcError, errorMessage, exitCodeFor } from '../common/errors.ts';
import { registerCluster } from './cluster.ts';
import { registerConnection } from './connection.ts';
import { registerNetwork } from './network.ts';
import { registerNode } from './node.ts';
import { registerStorage } from './storage.ts';
import { registerVm } from './vm.ts';
import { examples, print, printError, printRawError } from './output.ts';

export function buildProgram(): Command {
  const program = new Command('pvc')
    .description('pvc: manage a pvc hypervisor cluster through its ZooKeeper ensemble')
    .option('--connection <name>', 'saved connection to use (default: $PVC_CONNECTION, then the default connection, then "local")')
    .configureOutput({
      writeOut: (text) => print(text),
      writeErr: (text) => printRawError(text),
      outputError: (text) => printError(text.replace(/^error: /, '')),
    })
    // Errors come back to main() instead of commander calling process.exit, so that they share
    // the exit codes of every other failure. Set before the subcommands, which inherit it.
    .exitOverride()
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      '\nExit status: 0 ok, 1 bad input or refused, 2 cluster unreachable or a wait timed out.\n' +
        'Environment: PVC_CONNECTION (connection to use), PVC_CONFIG_DIR (where connections.yaml is),\n' +
        '  PVC_DEBUG=1 (stack traces with errors), PVC_NO_BUILD_CACHE=1 (run the TypeScript through tsx).\n' +
        examples([
          'pvc connection add local --hosts 127.0.0.1:2181 --cluster dev --user pvc --password-file pw.txt',
          'pvc cluster status',
          'pvc node list --format json',
          'pvc --connection lab node primary coord2',
          'pvc vm list --state start',
        ]),
    );
  registerConnection(program);
  registerCluster(program);
  registerNode(program);
  registerVm(program);
  registerStorage(program);
  registerNetwork(program);
  return program;
}

/** Runs one command line (without the node and script arguments); returns the exit code. */
export async function main(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...args], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    // commander has printed its own message (through configureOutput); help and version exit 0.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT_OR_REFUSED;
    printError(errorMessage(error));
    if (env.PVC_DEBUG && error instanceof Error && error.stack) printRawError(`${error.stack}\n`);
    return await exitCodeOf(error);
  }
}

async function exitCodeOf(error: unknown): Promise<number> {
  if (error instanceof PvcError) return exitCodeFor(error);
  // A raw ZooKeeper error that the store let through: a lost connection means unreachable.
  // The store is loaded already whenever such an error can happen, so this import is free.
  const { isZkError } = await import('../common/zk/store.ts');
  if (isZkError(error, 'CONNECTION_LOSS') || isZkError(error, 'SESSION_EXPIRED')) return EXIT_UNREACHABLE;
  return EXIT_BAD_INPUT_OR_REFUSED;
}
