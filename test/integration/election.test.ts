// Primary election among real pvcd processes on the shared real ZooKeeper ensemble.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { requestPrimary, requestSecondary } from '../../common/client/handover.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { PvcdFleet, TEST_SESSION_TIMEOUT_MS } from '../helpers/pvcd-fleet.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';

let store: ZkStore;
const fleets: PvcdFleet[] = [];

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
});

afterEach(async () => {
  await Promise.all(fleets.splice(0).map((f) => f.stopAll()));
});

afterAll(async () => {
  await store.close();
});

async function threeCoordinators(prefix: string): Promise<PvcdFleet> {
  const fleet = new PvcdFleet(inject('zkHosts'), uniqueClusterName(prefix), store, { baseDir: inject('testRunDir') });
  fleets.push(fleet);
  for (const node of ['c1', 'c2', 'c3']) fleet.start(node);
  const primary = await fleet.waitForPrimary();
  await fleet.waitUntilServing(primary);
  // Every coordinator has joined the election before the test moves the role around.
  await waitFor('three candidates', async () => (await store.children(fleet.layout.electionDir())).length === 3);
  return fleet;
}

describe('primary election', () => {
  it('elects exactly one primary; the others are secondary and every node keeps alive', async () => {
    const fleet = await threeCoordinators('elect');
    const primary = (await fleet.primary()) as string;
    const states = await waitFor('two secondaries', async () => {
      const all = await Promise.all(['c1', 'c2', 'c3'].map((n) => store.get(fleet.layout.nodeStatus(n))));
      const s = all.map((x) => x?.value);
      return s.every((x) => x?.daemonState === 'run') && s.filter((x) => x?.coordinatorState === 'secondary').length === 2 ? s : null;
    });
    expect(states.filter((s) => s?.coordinatorState === 'primary').map(() => primary)).toEqual([primary]);
    for (const node of ['c1', 'c2', 'c3']) expect(await store.stat(fleet.layout.nodeAlive(node))).not.toBeNull();

    // The keepalive goes on: the sequence grows and the host facts are filled in.
    const before = (await store.get(fleet.layout.nodeStatus('c2')))?.value;
    const after = await waitFor('a newer keepalive', async () => {
      const now = (await store.get(fleet.layout.nodeStatus('c2')))?.value;
      return now && before && now.keepaliveSeq > before.keepaliveSeq ? now : null;
    });
    expect(after.host.cores).toBeGreaterThan(0);
    expect(after.host.memoryTotalMiB).toBeGreaterThan(0);
    expect(after.pvcdVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(fleet.spans().filter((s) => s.stopMs === null).map((s) => s.node)).toEqual([primary]);
  });

  it('moves the role on request: the old primary stops before the new one starts', async () => {
    const fleet = await threeCoordinators('handover');
    const first = (await fleet.primary()) as string;
    const target = ['c1', 'c2', 'c3'].find((n) => n !== first) as string;

    const result = await requestPrimary(store, fleet.layout, target, { waitMs: 20_000 });
    expect(result.outcome).toBe('completed');
    expect(result.primary).toBe(target);
    await fleet.waitUntilServing(target);
    expect(await store.get(fleet.layout.handover())).toBeNull();

    const spans = fleet.spans();
    const old = spans.find((s) => s.node === first) ;
    const fresh = spans.find((s) => s.node === target);
    expect(old?.stopMs).not.toBeNull();
    expect(old?.stopReason).toMatch(/handover/);
    expect(fresh && old?.stopMs !== null && old?.stopMs !== undefined && fresh.startMs >= old.stopMs).toBe(true);
    expect(fleet.overlaps()).toEqual([]);

    // And away again with `secondary`: any other coordinator takes it.
    const back = await requestSecondary(store, fleet.layout, target, { waitMs: 20_000 });
    expect(back.outcome).toBe('completed');
    expect(back.primary).not.toBe(target);
    await fleet.waitUntilServing(back.primary as string);
    expect(fleet.overlaps()).toEqual([]);
  });

  it('a primary given SIGTERM hands over before it exits', async () => {
    const fleet = await threeCoordinators('sigterm');
    const first = (await fleet.primary()) as string;
    fleet.signal(first, 'SIGTERM');
    await fleet.waitExit(first);
    const next = await fleet.waitForPrimary((n) => n !== first);
    await fleet.waitUntilServing(next);

    const status = await store.get(fleet.layout.nodeStatus(first));
    expect(status?.value.daemonState).toBe('stop');
    expect(await store.stat(fleet.layout.nodeAlive(first))).toBeNull();
    const old = fleet.spans().find((s) => s.node === first);
    expect(old?.stopReason).toBe('shutting down');
    expect(fleet.overlaps()).toEqual([]);
    // It left the election itself, rather than waiting for its session to expire.
    expect((await store.children(fleet.layout.electionDir())).some((c) => c.startsWith(`${first}_`))).toBe(false);
  });

  it('a primary killed with SIGKILL is replaced once its session expires', async () => {
    const fleet = await threeCoordinators('sigkill');
    const first = (await fleet.primary()) as string;
    fleet.signal(first, 'SIGKILL');
    await fleet.waitExit(first);
    const next = await fleet.waitForPrimary((n) => n !== first);
    await fleet.waitUntilServing(next);
    // Peers see the killed node as dead: its status still says run, its alive node is gone.
    expect((await store.get(fleet.layout.nodeStatus(first)))?.value.daemonState).toBe('run');
    expect(await store.stat(fleet.layout.nodeAlive(first))).toBeNull();
    expect(fleet.overlaps()).toEqual([]);
  });

  it('a primary frozen with SIGSTOP is replaced, and once resumed never works beside the new one', async () => {
    const fleet = await threeCoordinators('sigstop');
    const first = (await fleet.primary()) as string;
    fleet.signal(first, 'SIGSTOP');
    try {
      const next = await fleet.waitForPrimary((n) => n !== first, TEST_SESSION_TIMEOUT_MS * 10);
      await fleet.waitUntilServing(next);
      // Let the new primary work for a while before the old one wakes up.
      await waitFor('the new primary ticking', async () => fleet.spans().some((s) => s.node === next && s.lastActiveMs > s.startMs + 200));
    } finally {
      fleet.signal(first, 'SIGCONT');
    }
    // The old one notices it lost, stops, and comes back as a secondary in a new session.
    await waitFor(`${first} back as secondary`, async () => {
      const status = await store.get(fleet.layout.nodeStatus(first));
      return status?.value.coordinatorState === 'secondary' && status.value.daemonState === 'run' ? true : null;
    });
    await waitFor(`${first} re-joined`, async () => (await store.children(fleet.layout.electionDir())).some((c) => c.startsWith(`${first}_`)));

    const spans = fleet.spans();
    const old = spans.find((s) => s.node === first);
    const fresh = spans.find((s) => s.node !== first);
    expect(old?.stopMs).not.toBeNull();
    expect(old?.stopReason).toMatch(/lease|session/);
    // Its last act as primary came before the new primary started; its stop line (written on
    // waking) carries no work.
    expect(old && fresh && old.lastActiveMs < fresh.startMs).toBe(true);
    expect(fleet.overlaps()).toEqual([]);
  });

  it('a hypervisor takes no part in the election and reports itself a client', async () => {
    const fleet = new PvcdFleet(inject('zkHosts'), uniqueClusterName('hv'), store, { baseDir: inject('testRunDir') });
    fleets.push(fleet);
    fleet.start('c1');
    fleet.start('hv1', 'hypervisor');
    await fleet.waitForPrimary();
    const status = await waitFor('hv1 running', async () => {
      const s = await store.get(fleet.layout.nodeStatus('hv1'));
      return s?.value.daemonState === 'run' ? s.value : null;
    });
    expect(status.coordinatorState).toBe('client');
    expect((await store.get(fleet.layout.node('hv1')))?.value.role).toBe('hypervisor');
    expect((await store.children(fleet.layout.electionDir())).some((c) => c.startsWith('hv1_'))).toBe(false);
    await expect(requestPrimary(store, fleet.layout, 'hv1', { waitMs: 1_000 })).rejects.toThrow(/hv1/);
  });
});
