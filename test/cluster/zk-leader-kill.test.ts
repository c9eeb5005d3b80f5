// The ZooKeeper ensemble's leader dies under a running pvc cluster: the ensemble elects a new
// leader, pvcd sessions survive, and the cluster keeps working — keepalives go on, there is
// still exactly one primary, and a planned handover still completes. This test starts its own
// ensemble, since killing the shared one's leader would disturb every other test file.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { requestPrimary } from '../../common/client/handover.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { startEnsemble, type Ensemble } from '../../scripts/lib/zk-ensemble.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';

const NODES = ['c1', 'c2', 'c3'];
let ensemble: Ensemble;
let store: ZkStore;
let fleet: PvcdFleet;

beforeAll(async () => {
  ensemble = await startEnsemble({ dir: path.join(inject('testRunDir'), `zk-leader-kill-${process.pid}`), size: 3, detached: false });
  store = await connectStore(ensemble.hosts);
  fleet = new PvcdFleet(ensemble.hosts, uniqueClusterName('zkleader'), store, { baseDir: inject('testRunDir') });
  for (const node of NODES) fleet.start(node);
  await fleet.waitUntilServing(await fleet.waitForPrimary());
});

afterAll(async () => {
  await fleet?.stopAll();
  await store?.close();
  await ensemble?.stop();
});

async function keepaliveSeqs(): Promise<number[]> {
  const statuses = await Promise.all(NODES.map((n) => store.get(fleet.layout.nodeStatus(n))));
  return statuses.map((s) => s?.value.keepaliveSeq ?? -1);
}

describe('the ZooKeeper leader is killed', () => {
  it('the cluster keeps working: sessions survive, keepalives go on, one primary, handover works', async () => {
    const aliveBefore = await Promise.all(NODES.map((n) => store.stat(fleet.layout.nodeAlive(n))));
    const leader = await ensemble.leaderId();
    expect(leader).not.toBeNull();
    await ensemble.killServer(leader as number, 'SIGKILL');

    await waitFor('a new zookeeper leader', async () => {
      const next = await ensemble.leaderId();
      return next !== null && next !== leader;
    });

    // Every pvcd keeps writing its keepalive through the new leader.
    const seqsAfterKill = await waitFor('keepalives readable', async () => keepaliveSeqs());
    await waitFor('keepalives after the leader died', async () => (await keepaliveSeqs()).every((seq, i) => seq > (seqsAfterKill[i] as number) + 2));

    // Same sessions: the alive nodes are the very ones from before (same owner).
    const aliveAfter = await Promise.all(NODES.map((n) => store.stat(fleet.layout.nodeAlive(n))));
    expect(aliveAfter.map((s) => s?.ephemeralOwner)).toEqual(aliveBefore.map((s) => s?.ephemeralOwner));

    // Still one primary, and a planned handover completes on the surviving quorum.
    const primary = await fleet.waitForPrimary();
    const target = NODES.find((n) => n !== primary) as string;
    const result = await requestPrimary(store, fleet.layout, target, { waitMs: 20_000 });
    expect(result.primary).toBe(target);
    await fleet.waitUntilServing(target);
    expect(fleet.overlaps()).toEqual([]);

    // The dead server comes back and rejoins as a follower.
    await ensemble.restartServer(leader as number);
    expect(await ensemble.serverMode(leader as number)).toBe('follower');
  });
});
