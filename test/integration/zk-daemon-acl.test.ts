// The daemon-only ACL of the BMC password (docs/zk-schema.md "ACLs") against the shared real
// ZooKeeper ensemble: a pvcd-like store (cluster + daemon identity) publishes the BMC; a CLI-like
// store (cluster identity only) reads host, port and user but is refused the password; the
// daemon store and its fencer read it. Also: the ACL follows the config when the daemon identity
// is added or dropped, an older document's password is dropped, and the cluster identity can
// still delete the secret (ZooKeeper checks DELETE on the parent).
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkAuth, ZkStore } from '../../common/zk/store.ts';
import { validateConfig, type PvcdConfig } from '../../daemon/config.ts';
import { readBmcTarget } from '../../daemon/coordinator/bmc-target.ts';
import { publishBmc } from '../../daemon/runtime/ha-node.ts';
import { closeTrackedStores, connectStore, testAuth, uniqueClusterName } from '../helpers/zk.ts';

const hosts = inject('zkHosts');
const daemonAuth: ZkAuth = { user: 'pvcd-acl-test', password: 'daemon-acl-secret-91c4' };
const NODE = 'hv1';
const BMC = { host: '127.0.0.1', port: 6230, username: 'admin' };

afterAll(closeTrackedStores);

/** A logger whose output the test reads back. */
function capturedLog(): { log: Logger; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), text: () => lines.join('') };
}

function config(cluster: string, password: string): PvcdConfig {
  const zookeeper = { hosts, user: testAuth.user, password: testAuth.password, daemonUser: daemonAuth.user, daemonPassword: daemonAuth.password };
  return validateConfig({ cluster, node: NODE, role: 'coordinator', zookeeper, bmc: { ...BMC, password } }, 'test');
}

async function freshCluster(prefix: string): Promise<{ cli: ZkStore; daemon: ZkStore; layout: ZkLayout; cluster: string }> {
  // One server for both sessions: ZooKeeper orders reads after writes within a session, not
  // across sessions on different servers (a follower may answer the CLI before it has applied
  // what the daemon just wrote; seen once in a full run).
  const server = hosts.split(',')[0] as string;
  const cli = await connectStore(server);
  const daemon = await connectStore(server, { daemonAuth });
  const cluster = uniqueClusterName(prefix);
  const layout = new ZkLayout(cluster);
  await migrateSchema(cli, layout);
  await cli.create(layout.node(NODE), { name: NODE, role: 'coordinator' });
  return { cli, daemon, layout, cluster };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PvcError) return error.code;
    throw error;
  }
  return 'allowed';
}

describe('BMC password under the daemon-only ACL', () => {
  it('is readable by the daemon identity only; host, port and user stay public', async () => {
    const { cli, daemon, layout, cluster } = await freshCluster('bmc-acl');
    const { log, text } = capturedLog();
    await publishBmc(daemon, layout, config(cluster, 'bmc-pw-1'), log);
    expect(text()).not.toContain('bmc-pw-1');

    expect((await cli.get(layout.nodeBmc(NODE)))?.value).toEqual(BMC);
    expect(await refusal(cli.get(layout.nodeBmcSecret(NODE)))).toBe('not-authorized');
    expect((await daemon.get(layout.nodeBmcSecret(NODE)))?.value).toEqual({ password: 'bmc-pw-1' });

    expect(await readBmcTarget(daemon, layout, NODE)).toEqual({ kind: 'found', bmc: { ...BMC, password: 'bmc-pw-1' } });
    const fromCli = await readBmcTarget(cli, layout, NODE);
    expect(fromCli.kind).toBe('unusable');
    expect(JSON.stringify(fromCli)).not.toContain('bmc-pw-1');

    // The cluster identity may still delete it (a node's removal): DELETE is checked on the parent.
    expect(await cli.removeIfPresent(layout.nodeBmcSecret(NODE))).toBe(true);
  });

  it('moves a secret an older pvcd wrote under the cluster ACL under the daemon ACL', async () => {
    const { cli, daemon, layout, cluster } = await freshCluster('bmc-acl-upgrade');
    await cli.create(layout.nodeBmcSecret(NODE), { password: 'bmc-pw-3' });
    expect((await cli.get(layout.nodeBmcSecret(NODE)))?.value.password).toBe('bmc-pw-3');
    await publishBmc(daemon, layout, config(cluster, 'bmc-pw-3'), capturedLog().log);
    expect(await refusal(cli.get(layout.nodeBmcSecret(NODE)))).toBe('not-authorized');
    expect((await daemon.get(layout.nodeBmcSecret(NODE)))?.value.password).toBe('bmc-pw-3');
    await publishBmc(daemon, layout, config(cluster, 'bmc-pw-4'), capturedLog().log);
    expect(await refusal(cli.get(layout.nodeBmcSecret(NODE)))).toBe('not-authorized');
    expect((await daemon.get(layout.nodeBmcSecret(NODE)))?.value.password).toBe('bmc-pw-4');
  });

  it('drops the password an older pvcd left in the public document', async () => {
    const { cli, daemon, layout, cluster } = await freshCluster('bmc-acl-legacy');
    await cli.create(layout.nodeBmc(NODE), { ...BMC, password: 'old-pw' });
    expect(await readBmcTarget(daemon, layout, NODE)).toEqual({ kind: 'found', bmc: { ...BMC, password: 'old-pw' } });
    await publishBmc(daemon, layout, config(cluster, 'bmc-pw-5'), capturedLog().log);
    expect((await cli.get(layout.nodeBmc(NODE)))?.value).toEqual(BMC);
    expect(await readBmcTarget(daemon, layout, NODE)).toEqual({ kind: 'found', bmc: { ...BMC, password: 'bmc-pw-5' } });
  });
});

describe('pvcd config: the daemon identity', () => {
  const base = { cluster: 'c1', node: NODE, role: 'coordinator' };
  const zk = { hosts: '127.0.0.1:2181', user: 'pvc', password: 'p' };
  const problem = (zookeeper: Record<string, unknown>): string => {
    try {
      validateConfig({ ...base, zookeeper }, 'test.yaml');
    } catch (error) {
      return (error as Error).message;
    }
    return 'valid';
  };

  it('is optional without a bmc, and resolved when given', () => {
    expect(validateConfig({ ...base, zookeeper: zk }, 'test.yaml').zookeeper.daemonPassword).toBeUndefined();
    expect(validateConfig({ ...base, zookeeper: { ...zk, daemonUser: 'pvcd', daemonPassword: 'dp' } }, 'test.yaml').zookeeper.daemonPassword).toBe('dp');
  });

  it('names what is wrong and never echoes the password', () => {
    expect(problem({ ...zk, daemonPassword: 'dp-secret-1' })).toMatch(/zookeeper\.daemonUser: daemonPassword and daemonPasswordFile need daemonUser/);
    expect(problem({ ...zk, daemonUser: 'pvcd' })).toMatch(/exactly one of daemonPassword and daemonPasswordFile/);
    expect(problem({ ...zk, daemonUser: 'pvc', daemonPassword: 'dp-secret-2' })).toMatch(/zookeeper\.daemonUser: must differ from zookeeper\.user/);
    const wrongType = problem({ ...zk, daemonUser: 'pvcd', daemonPassword: 12345678 });
    expect(wrongType).toMatch(/zookeeper\.daemonPassword/);
    expect(wrongType).not.toContain('12345678');
    expect(problem({ ...zk, daemonUser: 'pvcd', daemonPasswordFile: '/nonexistent/pvc-daemon-pw' })).toMatch(/cannot read zookeeper\.daemonPasswordFile/);
  });

  it('is required with a bmc: its password must never be readable by the cli', () => {
    const withBmc = (zookeeper: Record<string, unknown>) => () => validateConfig({ ...base, zookeeper, bmc: { ...BMC, password: 'bmc-secret-6' } }, 'test.yaml');
    expect(withBmc(zk)).toThrow(/invalid pvcd config test\.yaml: bmc needs zookeeper\.daemonUser/);
    expect(withBmc(zk)).not.toThrow(/bmc-secret-6/);
    expect(withBmc({ ...zk, daemonUser: 'pvcd', daemonPassword: 'dp' })().bmc?.host).toBe(BMC.host);
  });
});
