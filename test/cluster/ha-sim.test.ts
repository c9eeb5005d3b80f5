// High availability on a cluster of real pvcd processes (shared ZooKeeper ensemble, simulated
// hypervisors, one real ipmi_sim BMC per node): a dead node is detected, powered off through its
// BMC (confirmed by reading the power back), its VMs restart elsewhere, it stays fenced after it
// boots until `pvc node ready`, and its VMs come back. Faults: pvcd SIGKILL, a frozen primary
// (SIGSTOP, woken later), an unreachable BMC (VMs left down by the default policy, released once
// the node boots and destroys them itself), the primary killed while it fences, and a wedged
// node (session alive, keepalive stuck) found by its stale keepalive. Checked
// every 50 ms throughout: no VM runs on two nodes. At the end: the primary journals never
// overlapped. Real libvirt + Ceph (RBD disks, the blocklist) are test/cluster/ha-rbd.test.ts.
// Also a zombie that wakes up: a pvcd frozen past its session while its BMC does not answer (its
// VMs stay down until that same pvcd wakes, destroys its guests and records its self-fence; only
// then are they released), maintenance mode (a dead node is not fenced until maintenance is off),
// and `pvc node fence` of a live node (powered off through its BMC, its VMs restarted elsewhere).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listFaults, requestFence, setMaintenance } from '../../common/client/ha.ts';
import { readNodeFacts } from '../../common/client/read.ts';
import { nodeView } from '../../common/client/views.ts';
import type { FenceOutcome, FenceStepRecord } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { isPvcdProcess } from '../../scripts/lib/pvcd-process.ts';
import { HaCluster } from '../helpers/ha-cluster.ts';
import { waitFor } from '../helpers/wait.ts';
import { TEST_SESSION_TIMEOUT_MS, connectStore, uniqueClusterName } from '../helpers/zk.ts';

const NODES = ['h1', 'h2', 'h3'];
const WAIT_MS = 90_000;
let store: ZkStore;
let ha: HaCluster;
let vms: string[];

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
  ha = await HaCluster.start({ hosts: inject('zkHosts'), store, cluster: uniqueClusterName('ha'), baseDir: inject('testRunDir'), nodes: NODES, ha: { keepaliveStaleMs: 3_000, checkIntervalMs: 100 } });
  await ha.waitForCluster();
  vms = await ha.createVms('hv', 9);
  await ha.waitAllRunning(vms, WAIT_MS);
}, 120_000);

afterAll(async () => {
  await ha?.stop();
  await store?.close();
});

const waitFence = (node: string, outcome: FenceOutcome) => ha.waitFence(node, outcome, WAIT_MS);
const fenceOf = (node: string) => ha.fence(node);
const vmsOn = (node: string) => ha.vmsOn(node, vms);
const bootAndReturn = (node: string) => ha.bootAndReturn(node, vms, WAIT_MS);
/** Only to show that nothing happens in a while; everything else polls (waitFor). */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function shown(node: string) {
  const facts = await readNodeFacts(store, ha.layout, node);
  if (!facts) throw new Error(`node ${node} not found`);
  return nodeView(facts, null);
}

describe('high availability with real pvcd, ZooKeeper and BMCs', () => {
  it('a SIGKILLed node is powered off, fenced, and its VMs run elsewhere; lastNode remembers it', async () => {
    const primary = await ha.fleet.waitForPrimary();
    const victim = NODES.find((n) => n !== primary) as string;
    const onVictim = await vmsOn(victim);
    expect(onVictim.length).toBeGreaterThan(0);
    ha.fleet.signal(victim, 'SIGKILL');
    const fence = await waitFence(victim, 'fenced');
    expect(fence).toMatchObject({ node: victim, reason: 'session-lost', by: primary });
    expect(fence.steps.map((s) => [s.step, s.result])).toEqual([['power-off', 'done'], ['blocklist', 'skipped'], ['release-vms', 'done']]);
    expect(ha.bmcs.power(victim)).toBe('off');
    await ha.waitAllRunning(vms, WAIT_MS, [victim]);
    for (const name of onVictim) expect((await ha.vmStates([name])).get(name)?.lastNode).toBe(victim);
    const view = await shown(victim);
    expect(view.daemonState).toBe('fenced');
    expect(view.deadReason).toMatch(/^session-lost: .*fence fenced; power-off done/);
    const kinds = (await listFaults(store, ha.layout)).filter((f) => f.node === victim).map((f) => f.kind);
    expect(kinds).toEqual(['fence', 'recovery']);
    expect(ha.violations).toEqual([]);
  }, 240_000);

  it('the fenced node boots fenced, runs nothing, and `node ready` brings its VMs back', async () => {
    const victim = ha.powerEvents.find((e) => e.state === 'off')?.node as string;
    const away = (await ha.vmStates(vms));
    const returning = vms.filter((n) => away.get(n)?.lastNode === victim);
    await bootAndReturn(victim);
    await ha.waitAllRunning(vms, WAIT_MS);
    const back = await ha.vmStates(returning);
    for (const name of returning) expect(back.get(name)).toMatchObject({ node: victim, lastNode: null, running: [victim] });
    expect(await fenceOf(victim)).toBeNull();
    expect(ha.violations).toEqual([]);
  }, 240_000);

  it('a frozen primary (SIGSTOP) is replaced and fenced; woken later it cannot run its VMs again', async () => {
    const primary = await ha.fleet.waitForPrimary();
    ha.fleet.signal(primary, 'SIGSTOP');
    const fence = await waitFence(primary, 'fenced');
    expect(fence.by).not.toBe(primary);
    ha.fleet.signal(primary, 'SIGCONT'); // the power off killed it; nothing may wake
    await ha.waitAllRunning(vms, WAIT_MS, [primary]);
    await bootAndReturn(primary);
    await ha.waitAllRunning(vms, WAIT_MS);
    expect(ha.fleet.overlaps()).toEqual([]);
    expect(ha.violations).toEqual([]);
  }, 240_000);

  it('an unreachable BMC leaves the VMs down (default policy) until the node boots and destroys them', async () => {
    const primary = await ha.fleet.waitForPrimary();
    const victim = NODES.find((n) => n !== primary) as string;
    const onVictim = await vmsOn(victim);
    expect(onVictim.length).toBeGreaterThan(0);
    ha.bmcs.setUnreachable(victim, true);
    ha.fleet.signal(victim, 'SIGKILL');
    const fence = await waitFence(victim, 'vms-left-down');
    expect(fence.steps.map((s) => [s.step, s.result])).toEqual([['power-off', 'failed'], ['blocklist', 'skipped']]);
    expect(fence.steps[0]?.detail).not.toContain('ha-bmc-secret');
    // Left down: still only where they were (the node's pvcd is dead, its guests are not).
    for (const name of onVictim) expect(ha.runningOn(name)).toEqual([victim]);
    expect((await listFaults(store, ha.layout)).some((f) => f.kind === 'fence-failed' && f.node === victim)).toBe(true);
    // The node comes back (its BMC too): its pvcd finds the fence, destroys its guests, says so,
    // and the primary releases the VMs.
    ha.bmcs.setUnreachable(victim, false);
    await ha.boot(victim);
    const done = await waitFence(victim, 'fenced');
    expect(done.steps.map((s) => s.step)).toEqual(['power-off', 'blocklist', 'self-fence', 'release-vms']);
    await ha.waitAllRunning(vms, WAIT_MS, [victim]);
    await bootAndReturn(victim);
    await ha.waitAllRunning(vms, WAIT_MS);
    expect(ha.violations).toEqual([]);
  }, 240_000);

  it('a zombie that wakes up: frozen with its BMC unreachable, its VMs stay down until it wakes and destroys them', async () => {
    const primary = await ha.fleet.waitForPrimary();
    const victim = NODES.find((n) => n !== primary) as string;
    const onVictim = await vmsOn(victim);
    expect(onVictim.length).toBeGreaterThan(0);
    const pid = ha.fleet.process(victim).pid;
    const powerEvents = ha.powerEvents.length;
    ha.bmcs.setUnreachable(victim, true);
    ha.fleet.signal(victim, 'SIGSTOP');
    const fence = await waitFence(victim, 'vms-left-down');
    expect(fence).toMatchObject({ node: victim, reason: 'session-lost', by: primary });
    expect(fence.steps.map((s) => [s.step, s.result])).toEqual([['power-off', 'failed'], ['blocklist', 'skipped']]);
    // Left down (default policy leave-down): a while later still where they were, the frozen
    // node's guests still running, nothing started elsewhere.
    await sleep(TEST_SESSION_TIMEOUT_MS);
    expect(await vmsOn(victim)).toEqual(onVictim);
    for (const name of onVictim) expect(ha.runningOn(name)).toEqual([victim]);
    expect((await fenceOf(victim))?.outcome).toBe('vms-left-down');
    // It wakes, the BMC still unreachable: the same pvcd (not a power off, not a restart) finds
    // the fence, destroys its guests and records that, and only then are the VMs released.
    ha.fleet.signal(victim, 'SIGCONT');
    const done = await waitFence(victim, 'fenced');
    const steps = done.steps.map((s) => s.step);
    expect(steps).toEqual(['power-off', 'blocklist', 'self-fence', 'release-vms']);
    const selfFence = done.steps[2] as FenceStepRecord;
    const release = done.steps[3] as FenceStepRecord;
    expect(selfFence).toMatchObject({ result: 'done', detail: `the pvcd of ${victim} destroyed the vms on it` });
    expect(release.result).toBe('done');
    expect(selfFence.atMs).toBeLessThanOrEqual(release.atMs);
    expect(ha.fleet.process(victim).pid).toBe(pid);
    expect(isPvcdProcess(pid, ha.fleet.process(victim).configPath)).toBe(true);
    expect(ha.powerEvents.slice(powerEvents)).toEqual([]);
    await ha.waitAllRunning(vms, WAIT_MS, [victim]);
    await ha.thawBmc(victim);
    await bootAndReturn(victim);
    await ha.waitAllRunning(vms, WAIT_MS);
    expect(ha.fleet.overlaps()).toEqual([]);
    expect(ha.violations).toEqual([]);
  }, 240_000);

  it('maintenance mode suspends fencing: a dead node is left alone until maintenance is off', async () => {
    const primary = await ha.fleet.waitForPrimary();
    const victim = NODES.find((n) => n !== primary) as string;
    const onVictim = await vmsOn(victim);
    expect(onVictim.length).toBeGreaterThan(0);
    await setMaintenance(store, ha.layout, true);
    try {
      ha.fleet.signal(victim, 'SIGKILL');
      // Dead as the primary sees it (its session expired), then well past detection: no fence.
      await waitFor(`${victim}'s alive node gone`, async () => (await store.stat(ha.layout.nodeAlive(victim))) === null, WAIT_MS);
      await sleep(3 * TEST_SESSION_TIMEOUT_MS);
      expect(await fenceOf(victim)).toBeNull();
      expect(ha.bmcs.power(victim)).toBe('on');
      expect(await vmsOn(victim)).toEqual(onVictim);
      for (const name of onVictim) expect(ha.runningOn(name)).toEqual([victim]);
    } finally {
      await setMaintenance(store, ha.layout, false);
    }
    const fence = await waitFence(victim, 'fenced');
    expect(fence).toMatchObject({ node: victim, reason: 'session-lost' });
    expect(fence.steps.map((s) => [s.step, s.result])).toEqual([['power-off', 'done'], ['blocklist', 'skipped'], ['release-vms', 'done']]);
    expect(ha.bmcs.power(victim)).toBe('off');
    await ha.waitAllRunning(vms, WAIT_MS, [victim]);
    await bootAndReturn(victim);
    await ha.waitAllRunning(vms, WAIT_MS);
    expect(ha.violations).toEqual([]);
  }, 240_000);

  it('`pvc node fence` of a live node: the primary powers it off and its VMs run elsewhere', async () => {
    const primary = await ha.fleet.waitForPrimary();
    const victim = NODES.find((n) => n !== primary) as string;
    const onVictim = await vmsOn(victim);
    expect(onVictim.length).toBeGreaterThan(0);
    expect((await shown(victim)).daemonState).toBe('run');
    const powerEvents = ha.powerEvents.length;
    await requestFence(store, ha.layout, victim, 'test: fenced by hand while it runs');
    const fence = await waitFence(victim, 'fenced');
    expect(fence).toMatchObject({ node: victim, reason: 'manual', detail: 'test: fenced by hand while it runs' });
    // Powered off, though its pvcd saw the record at once and destroyed its guests: that alone
    // must not spare it the power off (its confirmation waits for the power-off step).
    expect(fence.steps.map((s) => [s.step, s.result])).toEqual([['power-off', 'done'], ['blocklist', 'skipped'], ['release-vms', 'done']]);
    expect(ha.bmcs.power(victim)).toBe('off');
    expect(ha.powerEvents.slice(powerEvents).map((e) => [e.node, e.state])).toEqual([[victim, 'off']]);
    expect((await shown(victim)).deadReason).toMatch(/^manual: /);
    await ha.waitAllRunning(vms, WAIT_MS, [victim]);
    await bootAndReturn(victim);
    await ha.waitAllRunning(vms, WAIT_MS);
    expect(ha.violations).toEqual([]);
  }, 240_000);

  it('the primary killed while it fences: the next primary finishes that fence, then fences it', async () => {
    const primary = await ha.fleet.waitForPrimary();
    const victim = NODES.find((n) => n !== primary) as string;
    const survivor = NODES.find((n) => n !== primary && n !== victim) as string;
    ha.bmcs.setUnreachable(victim, true); // holds the fence in its power-off step
    ha.fleet.signal(victim, 'SIGKILL');
    await waitFor('the fence under way', async () => (await fenceOf(victim))?.outcome === 'in-progress', WAIT_MS);
    ha.fleet.signal(primary, 'SIGKILL');
    ha.bmcs.setUnreachable(victim, false);
    const fence = await waitFence(victim, 'fenced');
    expect(fence.by).toBe(primary);
    expect(fence.steps.find((s) => s.step === 'power-off')?.result).toBe('done');
    await waitFence(primary, 'fenced');
    await ha.waitAllRunning(vms, WAIT_MS, [victim, primary]);
    for (const name of vms) expect(ha.runningOn(name)).toEqual([survivor]);
    expect(ha.fleet.overlaps()).toEqual([]);
    expect(ha.violations).toEqual([]);
  }, 240_000);

  it('a wedged node (session alive, keepalive stuck) is found by its stale keepalive', async () => {
    // A node whose pvcd holds its session but no longer writes its keepalive: played by the test's
    // own session holding the alive ephemeral. It has no BMC, so the default policy leaves it down.
    await store.create(ha.layout.node('wedged'), { name: 'wedged', role: 'hypervisor' });
    const status = (await store.get(ha.layout.nodeStatus(NODES[0] as string)))?.value;
    // Both at once: a status without its alive node would look like a lost session.
    await store
      .transaction()
      .create(ha.layout.nodeAlive('wedged'), { pid: 4242, sessionId: store.sessionId() }, 'ephemeral')
      .create(ha.layout.nodeStatus('wedged'), { ...(status as NonNullable<typeof status>), pid: 4242, keepaliveSeq: 9, coordinatorState: 'client', hypervisor: null })
      .commit();
    const fence = await waitFence('wedged', 'vms-left-down');
    expect(fence.reason).toBe('keepalive-stale');
    expect(fence.detail).toMatch(/its session lives but keepalive 9 has not moved for \d+ ms \(bound 3000 ms\)/);
    expect(fence.steps.map((s) => [s.step, s.result])).toEqual([['power-off', 'skipped'], ['blocklist', 'skipped']]);
    expect((await shown('wedged')).deadReason).toMatch(/^keepalive-stale: /);
    await store.remove(ha.layout.nodeAlive('wedged'));
  }, 240_000);
});
