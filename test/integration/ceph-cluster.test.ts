// scripts/lib/ceph-cluster.ts on its own: a private memstore cluster (the quickest kind, ~4 s)
// next to the run's shared one, a second start in its folder refused while it runs, and a stop
// that leaves no daemon behind (also when found by stopCephClustersUnder).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { CephCliDriver } from '../../daemon/drivers/ceph/ceph-cli.ts';
import { readCephCluster, startCephCluster, stopCephClustersUnder, type CephCluster } from '../../scripts/lib/ceph-cluster.ts';
import { isAlive } from '../../scripts/lib/pvcd-process.ts';
import { uniqueCephName } from '../helpers/ceph.ts';

const START_TIMEOUT_MS = 300_000;

function daemonPids(dir: string): number[] {
  const runDir = path.join(dir, 'run');
  return readdirSync(runDir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(path.join(runDir, f), 'utf8').trim()));
}

describe('single-host ceph cluster library', { timeout: START_TIMEOUT_MS }, () => {
  const root = path.join(inject('testRunDir'), uniqueCephName('ceph-lib'));
  const dir = path.join(root, 'cluster');
  let cluster: CephCluster | undefined;

  afterAll(async () => {
    await stopCephClustersUnder(root, { dropData: true });
  }, START_TIMEOUT_MS);

  it('starts 1 mon, 1 mgr and a memstore OSD on its own monitor ports, with cephx', async () => {
    cluster = await startCephCluster({ dir, osds: 1, objectStore: 'memstore' });
    expect(cluster.monHost).toBe(`[v2:127.0.0.1:${cluster.monPorts.v2},v1:127.0.0.1:${cluster.monPorts.v1}]`);
    expect(cluster.env).toEqual({ CEPH_CONF: cluster.confPath });
    const conf = readFileSync(cluster.confPath, 'utf8');
    expect(conf).toContain('auth cluster required = cephx');
    expect(conf).toContain('osd objectstore = memstore');
    const status = await new CephCliDriver({ confPath: cluster.confPath, clientId: 'admin' }).status();
    expect({ fsid: status.fsid, monitors: status.monitorsInQuorum, osds: status.osds }).toEqual({ fsid: cluster.fsid, monitors: ['a'], osds: { total: 1, up: 1, in: 1 } });
    expect(readCephCluster(dir)).toMatchObject({ fsid: cluster.fsid, monHost: cluster.monHost, confPath: cluster.confPath });
    expect(daemonPids(dir)).toHaveLength(3);
  });

  it('refuses a second start in a folder where daemons run', async () => {
    await expect(startCephCluster({ dir, osds: 1, objectStore: 'memstore' })).rejects.toThrow(/daemons already run/);
  });

  it('stops every daemon; a later sweep finds nothing running', async () => {
    const pids = daemonPids(dir);
    await cluster?.stop();
    expect(pids.filter((pid) => isAlive(pid))).toEqual([]);
    expect(await stopCephClustersUnder(root)).toEqual([]);
  });
});
