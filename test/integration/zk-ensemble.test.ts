// ZooKeeper failover with a real 3-server ensemble of this file's own (own ports, own folder):
// the leader is SIGKILLed, a new one is elected, and a store carries on with the same session;
// the dead server comes back and rejoins as a follower holding the data written without it.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout, type NodeSpec } from '../../common/zk/schema.ts';
import { SKIP, isZkError } from '../../common/zk/store.ts';
import { startEnsemble, type Ensemble } from '../../scripts/lib/zk-ensemble.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, uniqueClusterName } from '../helpers/zk.ts';

/** Far longer than a failover (about 1 s here), so the session must survive it. */
const FAILOVER_SESSION_TIMEOUT_MS = 10_000;
/** Generous: a write gap after a leader kill measured about 1 s, on a machine shared with other runs. */
const WRITE_RETRY_DEADLINE_MS = 45_000;

let ensemble: Ensemble | undefined;
/** The server the failover test killed, for the rejoin test. */
let killedId: number | null = null;

beforeAll(async () => {
  const dir = path.join(inject('testRunDir'), `ensemble-test-${process.pid}-${Date.now()}`);
  ensemble = await startEnsemble({ dir, size: 3, tickTimeMs: 500, detached: false, readyTimeoutMs: 90_000 });
});

afterAll(async () => {
  await closeTrackedStores();
  await ensemble?.stop();
});

function theEnsemble(): Ensemble {
  if (!ensemble) throw new Error('the ensemble did not start');
  return ensemble;
}

const hv = (name: string, role: NodeSpec['role'] = 'hypervisor'): NodeSpec => ({ name, role });

/**
 * Retries a write that meets the failover: in flight when the connection dropped
 * (CONNECTION_LOSS) or not answered in time ('unreachable'). Anything else fails the test, a
 * spurious not-authorized on reconnect above all.
 */
async function writeThroughFailover<T>(write: () => Promise<T>): Promise<{ result: T; attempts: number }> {
  const deadline = Date.now() + WRITE_RETRY_DEADLINE_MS;
  for (let attempts = 1; ; attempts += 1) {
    try {
      return { result: await write(), attempts };
    } catch (error) {
      const transient = isZkError(error, 'CONNECTION_LOSS') || (error instanceof PvcError && error.code === 'unreachable');
      if (!transient || Date.now() >= deadline) throw error;
    }
  }
}

async function killLeader(ens: Ensemble): Promise<number> {
  const leader = await waitFor('a leader', () => ens.leaderId());
  await ens.killServer(leader, 'SIGKILL');
  return leader;
}

describe('a 3-server ensemble', () => {
  it('elects a new leader when the leader is killed, and a store keeps working on the same session', { timeout: 180_000 }, async () => {
    const ens = theEnsemble();
    const store = await connectStore(ens.hosts, { sessionTimeoutMs: FAILOVER_SESSION_TIMEOUT_MS });
    const states: string[] = [];
    store.on('state', (state: string) => states.push(state));
    const layout = new ZkLayout(uniqueClusterName('failover'));
    await migrateSchema(store, layout);
    await store.create(layout.node('hv1'), hv('hv1'));
    const session = store.sessionId();
    await store.keepEphemeral(layout.nodeAlive('hv1'), () => ({ pid: process.pid, sessionId: store.sessionId() }));

    const leader = await killLeader(ens);
    killedId = leader;
    // Followers drop their clients when the leader dies, so the store is cut off wherever it was.
    await waitFor('the store to notice the lost connection', () => states.includes('disconnected'));
    // Written while disconnected (or just after): it must wait for the new connection and its
    // authentication, not be refused for a missing password.
    const { result: version } = await writeThroughFailover(() => store.set(layout.node('hv1'), hv('hv1', 'coordinator')));
    expect(version).toBe(1);

    const newLeader = await waitFor('a new leader', async () => {
      const id = await ens.leaderId();
      return id !== null && id !== leader ? id : null;
    });
    expect(newLeader).not.toBe(leader);
    expect(await ens.serverMode(leader)).toBeNull();

    expect(store.sessionId()).toBe(session);
    expect(states).not.toContain('expired');
    expect(store.isConnected()).toBe(true);
    expect((await store.stat(layout.nodeAlive('hv1')))?.ephemeralOwner).toBe(session);
    expect(await store.get(layout.node('hv1'))).toEqual({ value: hv('hv1', 'coordinator'), version: 1 });
    // And it goes on working: a compare-and-set round trip on the new leader.
    expect(await store.update(layout.node('hv1'), (current) => (current ? hv(current.name) : SKIP))).toEqual(hv('hv1'));
  });

  it('lets the killed server rejoin as a follower that has the data written without it', { timeout: 180_000 }, async () => {
    const ens = theEnsemble();
    const store = await connectStore(ens.hosts, { sessionTimeoutMs: FAILOVER_SESSION_TIMEOUT_MS });
    const dead = killedId ?? (await killLeader(ens));
    expect(await ens.serverMode(dead)).toBeNull();

    // Written by the two live servers only.
    const layout = new ZkLayout(uniqueClusterName('rejoin'));
    await writeThroughFailover(() => migrateSchema(store, layout));
    await writeThroughFailover(() => store.create(layout.node('hv9'), hv('hv9', 'coordinator')));

    await ens.restartServer(dead);
    killedId = null;
    expect(await ens.serverMode(dead)).toBe('follower');
    const leader = await ens.leaderId();
    expect(leader).not.toBeNull();
    expect(leader).not.toBe(dead);

    // A store connected to the rejoined server alone reads what was written while it was down.
    const server = ens.servers.find((s) => s.id === dead);
    const local = await connectStore(`127.0.0.1:${server?.clientPort}`);
    expect(await local.get(layout.node('hv9'))).toEqual({ value: hv('hv9', 'coordinator'), version: 0 });
    // ...and writes through it reach the others.
    await local.set(layout.node('hv9'), hv('hv9'));
    await waitFor('the write through the rejoined server to reach the store', async () => (await store.get(layout.node('hv9')))?.version === 1);
  });
});
