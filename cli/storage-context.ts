// What the storage commands share: a client on the resolved connection and, for the commands
// that act on Ceph, a CephDriver built from that connection's Ceph settings. Tests replace the
// factory (setCephDriverFactory) to run the CLI against the simulation in-process.
import type { Command } from 'commander';
import type { StorageTarget } from '../common/client/storage-target.ts';
import type { CephAccess, Connection } from '../common/connections.ts';
import { PvcError } from '../common/errors.ts';
import type { CephDriver } from '../daemon/drivers/ceph/port.ts';
import { globalOptions } from './context.ts';
import type { PvcClient } from '../common/client/client.ts';

export type CephDriverFactory = (access: CephAccess, connection: Connection) => Promise<CephDriver>;

/** The real driver (the ceph and rbd programs), loaded only by commands that act on Ceph. */
const realFactory: CephDriverFactory = async (access) => {
  const { createCephDriver } = await import('../daemon/drivers/ceph/factory.ts');
  return createCephDriver({ driver: 'real', conf: access.conf, id: access.id, keyring: access.keyring });
};

let factory: CephDriverFactory = realFactory;

/** Replaces how drivers are built (tests); returns a function that puts the previous one back. */
export function setCephDriverFactory(next: CephDriverFactory): () => void {
  const previous = factory;
  factory = next;
  return () => {
    factory = previous;
  };
}

async function openOn(command: Command): Promise<{ connection: Connection; client: PvcClient }> {
  const [{ resolveConnection }, { openCluster }] = await Promise.all([import('../common/connections.ts'), import('../common/client/client.ts')]);
  const connection = resolveConnection(globalOptions(command).connection);
  return { connection, client: await openCluster(connection) };
}

/** Runs `work` with the cluster's tree and its Ceph; refused, before connecting, when the connection has no Ceph settings. */
export async function withStorage<T>(command: Command, work: (target: StorageTarget) => Promise<T>): Promise<T> {
  const { resolveConnection } = await import('../common/connections.ts');
  const connection = resolveConnection(globalOptions(command).connection);
  if (!connection.ceph) {
    throw new PvcError(
      'refused',
      `connection ${connection.name} has no ceph settings, which this command needs; add them with pvc connection add ${connection.name} --replace ... --ceph-conf FILE [--ceph-id ID] [--ceph-keyring FILE]`,
    );
  }
  const ceph = await factory(connection.ceph, connection);
  const { client } = await openOn(command);
  try {
    return await work({ store: client.store, layout: client.layout, ceph });
  } finally {
    await client.close();
  }
}
