// The ZooKeeper ensemble's leader dies under a running pvc cluster: the ensemble elects a new
// leader, pvcd sessions survive, and the cluster keeps working — keepalives go on, there is
// still exactly one primary, and a planned handover still completes. This test starts its own
// ensemble, since killing the shared one's leader would disturb every other test file.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { requestPrimary } from '../../common/client/handover.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { startEnsemble, type Ensemble } from '../../scripts/lib/zk-ensemble.ts';
import { signalIfAlive } from '../../scripts/lib/pvcd-process.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';

const NODES = ['c1', 'c2', 'c3'];
const SESSION_TIMEOUT_MS = 4_000;
let ensemble: Ensemble;
let store: ZkStore;
let fleet: PvcdFleet;

beforeAll(async () => {
  ensemble = await startEnsemble({ dir: path.join(inject('testRunDir'), `zk-leader-kill-${process.pid}`), size: 3, detached: false });
  store = await connectStore(ensemble.hosts);
  // pvcd's default session timeout: a client of the killed leader needs about a second to find
  // another server, which a 2 s test session does not always survive on a loaded machine.
  fleet = new PvcdFleet(ensemble.hosts, uniqueClusterName('zkleader'), store, { baseDir: inject('testRunDir'), sessionTimeoutMs: SESSION_TIMEOUT_MS });
  for (const node of NODES) fleet.start(node);
  await fleet.waitUntilServing(await fleet.waitForPrimary());
  await waitFor('every pvcd running', async () => (await Promise.all(NODES.map((n) => store.get(fleet.layout.nodeStatus(n))))).every((s) => s?.value.daemonState === 'run'));
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
    try {
      await checkClusterWorksWithout(leader as number, aliveBefore);
    } finally {
      // The dead server comes back and rejoins as a follower.
      await ensemble.restartServer(leader as number);
    }
    expect(await ensemble.serverMode(leader as number)).toBe('follower');
  });

  async function checkClusterWorksWithout(leader: number, aliveBefore: Array<{ ephemeralOwner: string } | null>): Promise<void> {
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
  }

  it('a primary cut off from ZooKeeper stops its runnables on its lease, before its session could expire', async () => {
    const primary = await fleet.waitForPrimary();
    await fleet.waitUntilServing(primary);
    const spansBefore = fleet.spans().length;
    // Freeze every server: no client hears from ZooKeeper, and no session can expire meanwhile.
    const cutAt = Date.now();
    const signalAll = (signal: NodeJS.Signals) => ensemble.servers.forEach((server) => signalIfAlive(server.pid, signal));
    signalAll('SIGSTOP');
    try {
      await waitFor('the primary to stop its runnables', async () => fleet.spans().some((s) => s.node === primary && s.stopMs !== null && s.stopMs >= cutAt));
    } finally {
      signalAll('SIGCONT');
    }
    const stopped = fleet.spans().find((s) => s.node === primary && s.stopMs !== null && s.stopMs >= cutAt);
    expect(stopped?.stopReason).toMatch(/lease/);
    // It stopped within its lease (half the session timeout) of losing contact, well before the
    // ensemble could have expired its session; the margin is what the lease exists for.
    expect((stopped?.stopMs as number) - cutAt).toBeLessThan(SESSION_TIMEOUT_MS);

    // Back in touch: exactly one primary works again, and never two at once.
    const next = await fleet.waitForPrimary();
    await waitFor('a primary serving again', async () => fleet.spans().slice(spansBefore).some((s) => s.node === next && s.stopMs === null));
    expect(fleet.overlaps()).toEqual([]);
  });
});
