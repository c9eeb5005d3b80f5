// What every command shares: the global options and a client opened on the chosen connection.
// The client library and the connections file parser are imported here, when a command runs,
// so that `pvc --help` and commands that need neither do not pay for loading them.
import type { Command } from 'commander';
import type { PvcClient } from '../common/client/client.ts';

export interface GlobalOptions {
  connection?: string;
}

export function globalOptions(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>();
}

/** Runs `work` with a client on the resolved connection, closing the session afterwards. */
export async function withClient<T>(command: Command, work: (client: PvcClient) => Promise<T>): Promise<T> {
  const [{ resolveConnection }, { openCluster }] = await Promise.all([
    import('../common/connections.ts'),
    import('../common/client/client.ts'),
  ]);
  const connection = resolveConnection(globalOptions(command).connection);
  const client = await openCluster(connection);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
