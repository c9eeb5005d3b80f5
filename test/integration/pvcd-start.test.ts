// pvcd's start-up refusals, each with a real pvcd process: a bad config file, a cluster whose
// schema is newer than this pvcd, and a ZooKeeper that cannot be reached.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ExecError, run } from '../../common/exec.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { SCHEMA_VERSION, ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { REPO_ROOT } from '../../scripts/lib/pvcd-process.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { connectStore, testAuth, uniqueClusterName } from '../helpers/zk.ts';

let store: ZkStore;
const dir = mkdtempSync(path.join(os.tmpdir(), 'pvcd-start-'));

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
});
afterAll(async () => {
  await store.close();
});

/** Runs pvcd with a config text until it exits; returns its exit code and stderr. */
async function runPvcd(configText: string, name: string): Promise<{ exitCode: number; stderr: string }> {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, configText);
  return runPvcdWith(file);
}

async function runPvcdWith(file: string): Promise<{ exitCode: number; stderr: string }> {
  try {
    await run(process.execPath, ['--import', 'tsx', 'daemon/main.ts', '--config', file], { timeoutMs: 60_000, cwd: REPO_ROOT });
    return { exitCode: 0, stderr: '' };
  } catch (error) {
    if (!(error instanceof ExecError) || error.timedOut) throw error;
    return { exitCode: error.exitCode ?? -1, stderr: error.stderr };
  }
}

function config(cluster: string, overrides: string): string {
  return [`cluster: ${cluster}`, 'node: n1', 'role: coordinator', `zookeeper: { hosts: "${inject('zkHosts')}", user: ${testAuth.user}, password: "${testAuth.password}" }`, overrides].join('\n');
}

describe('pvcd refuses a bad config file, names the wrong value, and writes nothing', () => {
  const cases: Array<[string, (cluster: string) => string, RegExp]> = [
    ['a role that does not exist', (c) => config(c, '').replace('role: coordinator', 'role: boss'), /role.*"boss"/],
    ['a node name that is not a DNS label', (c) => config(c, '').replace('node: n1', 'node: Bad_Node'), /node.*"Bad_Node"/],
    ['an unknown key', (c) => config(c, 'colour: blue'), /colour/],
    ['a timeout out of range', (c) => config(c, 'timeouts: { sessionTimeoutMs: 5 }'), /timeouts\.sessionTimeoutMs.*5/],
    ['hosts without a port', (c) => config(c, '').replace(inject('zkHosts'), 'localhost'), /zookeeper\.hosts.*"localhost"/],
    ['text that is not YAML', (c) => `cluster: ${c}\nnode: [unclosed`, /not valid YAML/],
  ];
  for (const [what, text, message] of cases) {
    it(what, async () => {
      const cluster = uniqueClusterName('badcfg');
      const result = await runPvcd(text(cluster), cluster);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(await store.stat(new ZkLayout(cluster).clusterRoot())).toBeNull();
    });
  }

  it('a missing config file', async () => {
    const result = await runPvcdWith(path.join(dir, 'absent.yaml'));
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/absent\.yaml/);
  });
});

describe('pvcd refuses to run against a cluster it cannot understand or reach', () => {
  it('a schema newer than it knows: exits 1 saying both versions, registers nothing', async () => {
    const cluster = uniqueClusterName('newer');
    const layout = new ZkLayout(cluster);
    await migrateSchema(store, layout);
    await store.set(layout.schemaVersion(), { version: 99 });
    const result = await runPvcd(config(cluster, ''), cluster);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`schema version 99, newer than the ${SCHEMA_VERSION}`);
    expect(await store.stat(layout.node('n1'))).toBeNull();
  });

  it('a second pvcd with a running node\'s name: refused, and the running node\'s spec and status untouched', async () => {
    const cluster = uniqueClusterName('dupe');
    const fleet = new PvcdFleet(inject('zkHosts'), cluster, store, { baseDir: inject('testRunDir') });
    try {
      fleet.start('n1');
      await fleet.waitUntilServing(await fleet.waitForPrimary());
      const result = await runPvcd(config(cluster, 'timeouts: { sessionTimeoutMs: 2000 }').replace('role: coordinator', 'role: hypervisor'), `${cluster}-dupe`);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toMatch(/held by another live zookeeper session/);
      expect((await store.get(fleet.layout.node('n1')))?.value.role).toBe('coordinator');
      const status = (await store.get(fleet.layout.nodeStatus('n1')))?.value;
      expect(status?.daemonState).toBe('run');
      expect(status?.pid).toBe(fleet.process('n1').pid);
      expect(await fleet.primary()).toBe('n1');
    } finally {
      await fleet.stopAll();
    }
  });

  it('ZooKeeper unreachable: exits 2 naming the hosts', async () => {
    const [port] = await findFreePorts(1);
    const cluster = uniqueClusterName('unreach');
    const text = config(cluster, 'timeouts: { connectTimeoutMs: 1500 }').replace(inject('zkHosts'), `127.0.0.1:${port}`);
    const result = await runPvcd(text, cluster);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`cannot reach zookeeper at 127\\.0\\.0\\.1:${port}`));
  });
});
