// pvc connection: add, list, remove, default. These touch only the local connections file.
import type { Command } from 'commander';
import path from 'node:path';
import type { CephAccess, ConnectionSummary } from '../common/connections.ts';
import { PvcError } from '../common/errors.ts';
import { parseMs, readPassword } from './args.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, formatTable, parseFormat, print, render } from './output.ts';

interface AddCliOptions {
  hosts: string;
  cluster: string;
  user: string;
  password?: string;
  passwordFile?: string;
  sessionTimeoutMs?: string;
  cephConf?: string;
  cephId?: string;
  cephKeyring?: string;
  replace?: boolean;
  default?: boolean;
}

export function connectionListTable(connections: readonly ConnectionSummary[]): string {
  if (connections.length === 0) return 'no connections saved; add one with pvc connection add';
  return formatTable(
    [
      { header: 'NAME', value: (c: ConnectionSummary) => c.name },
      { header: 'DEFAULT', value: (c) => (c.default ? '*' : '') },
      { header: 'HOSTS', value: (c) => c.hosts },
      { header: 'CLUSTER', value: (c) => c.cluster },
      { header: 'USER', value: (c) => c.user },
      { header: 'SESSION TIMEOUT MS', value: (c) => c.sessionTimeoutMs, align: 'right' },
      // Shown only when some connection has Ceph settings, to keep the table narrow otherwise.
      ...(connections.some((c) => c.ceph) ? [{ header: 'CEPH', value: (c: ConnectionSummary) => (c.ceph ? `client.${c.ceph.id} ${c.ceph.conf}` : null) }] : []),
    ],
    connections,
  );
}

/** The Ceph settings from the --ceph-* options; paths made absolute, since the CLI may run from anywhere. */
export function cephAccessOf(options: Pick<AddCliOptions, 'cephConf' | 'cephId' | 'cephKeyring'>, defaultId: string): CephAccess | undefined {
  if (options.cephConf === undefined) {
    if (options.cephId !== undefined || options.cephKeyring !== undefined) throw new PvcError('bad-input', '--ceph-id and --ceph-keyring need --ceph-conf');
    return undefined;
  }
  return {
    conf: path.resolve(options.cephConf),
    id: options.cephId ?? defaultId,
    ...(options.cephKeyring === undefined ? {} : { keyring: path.resolve(options.cephKeyring) }),
  };
}

function connections(): Promise<typeof import('../common/connections.ts')> {
  return import('../common/connections.ts');
}

export function registerConnection(program: Command): void {
  const connection = program
    .command('connection')
    .description('manage saved cluster connections (stored in $PVC_CONFIG_DIR/connections.yaml, mode 0600)')
    .addHelpText(
      'after',
      '\nThe connection used is the one named by --connection, else $PVC_CONNECTION, else the\ndefault, else the one named local. PVC_CONFIG_DIR defaults to ${XDG_CONFIG_HOME:-~/.config}/pvc.\n' +
        examples([
          'pvc connection add lab --hosts zk1:2181,zk2:2181,zk3:2181 --cluster lab --user pvc --password-file ~/.pvc-lab',
          'pvc connection list',
          'pvc connection default lab',
          'pvc connection remove lab',
        ]),
    );

  connection
    .command('add')
    .description('save a connection to a cluster')
    .argument('<name>', 'name of the connection')
    .requiredOption('--hosts <hosts>', 'ZooKeeper servers, host:port[,host:port...]')
    .requiredOption('--cluster <cluster>', 'cluster name')
    .requiredOption('--user <user>', 'ZooKeeper digest user')
    .option('--password <password>', 'ZooKeeper digest password (visible in ps; prefer --password-file)')
    .option('--password-file <file>', "file holding the password on its first line ('-' reads stdin)")
    .option('--session-timeout-ms <ms>', 'ZooKeeper session timeout for this connection')
    .option('--ceph-conf <file>', 'ceph.conf of the storage cluster, for `pvc storage` commands that act on Ceph')
    .option('--ceph-id <id>', 'cephx client id, without "client." (default: admin; needs --ceph-conf)')
    .option('--ceph-keyring <file>', "that client's keyring, when ceph.conf does not name it (needs --ceph-conf)")
    .option('--replace', 'overwrite a connection of the same name')
    .option('--default', 'make it the default connection (the first one saved always is)')
    .addHelpText(
      'after',
      examples([
        'pvc connection add local --hosts 127.0.0.1:2181 --cluster dev --user pvc --password secret',
        'pvc connection add lab --hosts zk1:2181,zk2:2181 --cluster lab --user pvc --password-file - --default < pw.txt',
        'pvc connection add lab --hosts zk1:2181 --cluster lab --user pvc --password-file pw.txt --ceph-conf /etc/ceph/ceph.conf --ceph-id admin',
      ]),
    )
    .action(async (name: string, options: AddCliOptions) => {
      const { addConnection, connectionsPath, SESSION_TIMEOUT_MIN_MS, SESSION_TIMEOUT_MAX_MS, DEFAULT_CEPH_ID } = await connections();
      const ceph = cephAccessOf(options, DEFAULT_CEPH_ID);
      const password = readPassword(options);
      const sessionTimeoutMs =
        options.sessionTimeoutMs === undefined ? undefined : parseMs('--session-timeout-ms', options.sessionTimeoutMs, SESSION_TIMEOUT_MIN_MS, SESSION_TIMEOUT_MAX_MS);
      const saved = addConnection(
        { name, hosts: options.hosts, cluster: options.cluster, user: options.user, password, ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }), ...(ceph ? { ceph } : {}) },
        { replace: options.replace === true, makeDefault: options.default === true },
      );
      print(`saved connection ${saved.name} (cluster ${saved.cluster} at ${saved.hosts}) in ${connectionsPath()}`);
    });

  connection
    .command('list')
    .description('list saved connections (passwords are never shown)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc connection list', 'pvc connection list --format json']))
    .action(async (options: { format: string }) => {
      const format = parseFormat(options.format);
      const { listConnections } = await connections();
      const list = listConnections();
      await render(list, format, () => connectionListTable(list));
    });

  connection
    .command('remove')
    .description('forget a saved connection')
    .argument('<name>', 'name of the connection')
    .addHelpText('after', examples(['pvc connection remove lab']))
    .action(async (name: string) => {
      const { removeConnection } = await connections();
      removeConnection(name);
      print(`removed connection ${name}`);
    });

  connection
    .command('default')
    .description('make a saved connection the default')
    .argument('<name>', 'name of the connection')
    .addHelpText('after', examples(['pvc connection default lab']))
    .action(async (name: string) => {
      const { setDefaultConnection } = await connections();
      setDefaultConnection(name);
      print(`default connection is now ${name}`);
    });
}
