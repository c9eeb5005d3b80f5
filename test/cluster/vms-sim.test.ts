// VMs across a cluster of real pvcd processes on simulated hypervisors (one shared sim world,
// test/helpers/sim-world-server.ts): the primary places 120 VMs, each node starts its own, and
// every VM that should run runs on exactly one node, checked throughout. Then state changes
// (stop, shutdown, restart, disable) and a pvcd restart that must not touch running VMs.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { setNodeDomainState } from '../../common/client/node-domain.ts';
import { readNodeFacts } from '../../common/client/read.ts';
import { nodeView } from '../../common/client/views.ts';
import { moveVm } from '../../common/client/vm-move.ts';
import { readAllVmFacts } from '../../common/client/vm-read.ts';
import type { VmSpec, VmState } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { startSimWorldServer, type SimWorldServer } from '../helpers/sim-world-server.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';

const NODES = ['s1', 's2', 's3'];
const VM_COUNT = 120;
const NODE_MEMORY_MIB = 16_384;
const VM_MEMORY_MIB = 256;

let store: ZkStore;
let sim: SimWorldServer;
let fleet: PvcdFleet;
const violations: string[] = [];
let watcher: NodeJS.Timeout;

const vmName = (i: number) => `vm${String(i).padStart(3, '0')}`;

function vmSpec(i: number): VmSpec {
  const hex = i.toString(16).padStart(12, '0');
  return { ...TEST_GUEST_SPEC, name: vmName(i), uuid: `0b0b0b0b-0000-4000-8000-${hex}`, memoryMiB: VM_MEMORY_MIB, node: null, desiredState: 'start' };
}

/** The invariant: no VM runs (or is even defined) on two nodes at once. */
function checkOnce(): void {
  for (let i = 0; i < VM_COUNT; i += 1) {
    const where = sim.world.whereIs(vmName(i));
    if (where.length > 1) violations.push(`${vmName(i)} on ${where.join(' and ')}`);
  }
}

async function states(): Promise<Map<string, { state: VmState | null; node: string | null; statusNode: string | null }>> {
  const facts = await readAllVmFacts(store, fleet.layout);
  return new Map(facts.map((f) => [f.spec.value.name, { state: f.status?.state ?? null, node: f.spec.value.node, statusNode: f.status?.node ?? null }]));
}

async function setDesired(names: string[], desiredState: VmState): Promise<void> {
  for (const name of names) await store.update(fleet.layout.vm(name), (current) => ({ ...(current as VmSpec), desiredState }));
}

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
  // Guests power off 300 ms after the ACPI button, like a quick real guest.
  sim = await startSimWorldServer(NODES.map((name) => ({ name, cpus: 16, memoryMiB: NODE_MEMORY_MIB })), { acpiShutdownMs: 300 });
  fleet = new PvcdFleet(inject('zkHosts'), uniqueClusterName('vmsim'), store, { baseDir: inject('testRunDir') });
  const consoleLogDir = path.join(fleet.dir, 'console');
  mkdirSync(consoleLogDir, { recursive: true });
  for (const node of NODES) {
    fleet.start(node, 'coordinator', { runnables: ['placement'], hypervisor: { driver: 'sim', uri: sim.url, peerUri: `sim://${node}`, consoleLogDir, shutdownTimeoutMs: 3_000 } });
  }
  await fleet.waitUntilServing(await fleet.waitForPrimary());
  await waitFor('every node reporting its hypervisor', async () => {
    const statuses = await Promise.all(NODES.map((n) => store.get(fleet.layout.nodeStatus(n))));
    return statuses.every((s) => s?.value.hypervisor?.memoryMiB === NODE_MEMORY_MIB && s.value.daemonState === 'run');
  });
  watcher = setInterval(checkOnce, 100);
});

afterAll(async () => {
  clearInterval(watcher);
  await fleet?.stopAll();
  await sim?.close();
  await store?.close();
});

describe('VMs on a cluster of pvcd with simulated hypervisors', () => {
  it('places and starts 120 VMs, each running on exactly the node it was given', async () => {
    for (let i = 0; i < VM_COUNT; i += 1) await store.create(fleet.layout.vm(vmName(i)), vmSpec(i));
    const all = await waitFor('every VM started', async () => {
      const s = await states();
      return [...s.values()].every((v) => v.state === 'start') ? s : null;
    }, 90_000);
    for (const [name, v] of all) {
      expect(v.node, name).not.toBeNull();
      expect(v.statusNode, name).toBe(v.node);
      expect(sim.world.whereIs(name), name).toEqual([v.node]);
      expect(await sim.node(v.node as string).domainState(name)).toMatchObject({ state: 'running' });
    }
    // Running VMs carry their stats, from the node that runs them.
    const withStats = await waitFor('stats of a running VM', async () => (await store.get(fleet.layout.vmStatus(vmName(0))))?.value.stats);
    expect(withStats.memoryMiB).toBe(VM_MEMORY_MIB);
    // Spread by the default selector (most free memory): every node got a fair share.
    const perNode = NODES.map((n) => [...all.values()].filter((v) => v.node === n).length);
    for (const count of perNode) expect(count).toBeGreaterThan(VM_COUNT / NODES.length / 2);
    expect(violations).toEqual([]);
  });

  it('stops, shuts down, disables and restarts VMs as asked', async () => {
    await setDesired([vmName(0), vmName(1)], 'stop');
    await setDesired([vmName(2), vmName(3)], 'shutdown');
    await setDesired([vmName(4)], 'disable');
    await setDesired([vmName(5)], 'restart');
    const node5 = (await states()).get(vmName(5))?.node as string;
    const startsBefore = sim.node(node5).calls.filter((c) => c.operation === 'start' && c.domain === vmName(5)).length;
    await waitFor('the asked states', async () => {
      const s = await states();
      const spec5 = await store.get(fleet.layout.vm(vmName(5)));
      return (
        s.get(vmName(0))?.state === 'stop' && s.get(vmName(1))?.state === 'stop' &&
        s.get(vmName(2))?.state === 'shutdown' && s.get(vmName(3))?.state === 'shutdown' &&
        s.get(vmName(4))?.state === 'disable' && s.get(vmName(5))?.state === 'start' && spec5?.value.desiredState === 'start'
      );
    }, 60_000);
    for (const i of [0, 1, 2, 3, 4]) {
      const node = (await states()).get(vmName(i))?.node as string;
      expect((await sim.node(node).domainState(vmName(i))).state).toBe('shutoff');
    }
    // The restart really stopped and started the guest once more.
    const startsAfter = sim.node(node5).calls.filter((c) => c.operation === 'start' && c.domain === vmName(5)).length;
    expect(startsAfter).toBe(startsBefore + 1);
    expect(violations).toEqual([]);
  });

  it('a pvcd restart adopts its running VMs without restarting any', async () => {
    const node = 's2';
    const onNode = [...(await states()).entries()].filter(([, v]) => v.node === node && v.state === 'start').map(([name]) => name);
    expect(onNode.length).toBeGreaterThan(0);
    // A domain that belongs to no VM of the cluster (made by hand) must be left alone.
    await sim.node(node).define("<domain type='qemu'><name>handmade</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>");
    const mark = sim.node(node).calls.length;
    fleet.signal(node, 'SIGTERM');
    await fleet.waitExit(node);
    fleet.start(node);
    await waitFor(`${node} running again`, async () => (await store.get(fleet.layout.nodeStatus(node)))?.value.daemonState === 'run' && (await store.stat(fleet.layout.nodeAlive(node))) !== null);
    // Give the new pvcd a full look at its VMs (it reads every one on start).
    await waitFor(`${node} looked at its VMs`, async () => sim.node(node).calls.slice(mark).filter((c) => c.operation === 'state').length >= onNode.length);
    const since = sim.node(node).calls.slice(mark);
    expect(since.filter((c) => ['start', 'destroy', 'shutdown', 'define', 'undefine'].includes(c.operation))).toEqual([]);
    for (const name of onNode) expect((await sim.node(node).domainState(name)).state).toBe('running');
    expect((await sim.node(node).domainState('handmade')).state).toBe('shutoff');
    await waitFor('the foreign domain named in the log', () => readFileSync(fleet.process(node).logPath, 'utf8').includes('"domain":"handmade"'));
    await sim.node(node).undefine('handmade');
    expect(violations).toEqual([]);
  });

  it('flush moves every running VM off a node by live migration, and ready brings them back', async () => {
    const node = 's1';
    const before = await states();
    const running = [...before.entries()].filter(([, v]) => v.node === node && v.state === 'start').map(([name]) => name);
    const stopped = [...before.entries()].filter(([, v]) => v.node === node && v.state !== 'start').map(([name]) => name);
    expect(running.length).toBeGreaterThan(5);
    const progress: string[] = [];
    const flushed = await setNodeDomainState(store, fleet.layout, node, 'flush', { waitMs: 90_000, onProgress: (line) => progress.push(line) });
    expect(flushed.done).toBe(true);
    expect(progress[0]).toMatch(new RegExp(`node ${node}: \\d+ vm\\(s\\) still to move`));
    expect(progress.at(-1)).toBe(`node ${node}: nothing left to move`);
    const after = await states();
    for (const name of running) {
      const v = after.get(name);
      expect(v?.node, name).not.toBe(node);
      expect(v?.state, name).toBe('start');
      expect(sim.world.whereIs(name), name).toEqual([v?.node]);
      expect((await store.get(fleet.layout.vm(name)))?.value).toMatchObject({ lastNode: node, desiredState: 'start' });
      // Moved live: the guest was never started again, its last job was an incoming migration.
      expect((await sim.node(v?.node as string).lastJobInfo(name))?.operation).toMatch(/migration/);
    }
    // Stopped VMs stay where they were.
    for (const name of stopped) expect(after.get(name)?.node).toBe(node);
    // The node says so too, once its pvcd has looked again.
    await waitFor('the node shown flushed', async () => {
      const facts = await readNodeFacts(store, fleet.layout, node);
      return facts ? nodeView(facts, null).domainState === 'flushed' : false;
    });

    const readied = await setNodeDomainState(store, fleet.layout, node, 'ready', { waitMs: 90_000 });
    expect(readied.returning.sort()).toEqual(running.sort());
    const back = await states();
    for (const name of running) {
      expect(back.get(name), name).toMatchObject({ node, state: 'start', statusNode: node });
      expect(sim.world.whereIs(name), name).toEqual([node]);
    }
    expect(violations).toEqual([]);
  });

  it('migrate (target chosen), unmigrate and move, with the refusals', async () => {
    const name = vmName(20);
    const home = (await states()).get(name)?.node as string;
    const migrated = await moveVm(store, fleet.layout, name, 'migrate', { waitMs: 60_000 });
    expect(migrated.from).toBe(home);
    expect(migrated.to).not.toBe(home);
    expect(migrated.done).toBe(true);
    expect((await store.get(fleet.layout.vm(name)))?.value).toMatchObject({ node: migrated.to, lastNode: home, desiredState: 'start' });
    expect(sim.world.whereIs(name)).toEqual([migrated.to]);

    const back = await moveVm(store, fleet.layout, name, 'unmigrate', { waitMs: 60_000 });
    expect(back).toMatchObject({ from: migrated.to, to: home, done: true });
    expect((await store.get(fleet.layout.vm(name)))?.value).toMatchObject({ node: home, lastNode: null });

    const target = NODES.find((n) => n !== home) as string;
    const moved = await moveVm(store, fleet.layout, name, 'move', { target, waitMs: 60_000 });
    expect(moved).toMatchObject({ to: target, done: true });
    expect((await store.get(fleet.layout.vm(name)))?.value.lastNode).toBeNull();

    await expect(moveVm(store, fleet.layout, name, 'unmigrate', { waitMs: 0 })).rejects.toThrow(/was not migrated/);
    await expect(moveVm(store, fleet.layout, name, 'move', { target, waitMs: 0 })).rejects.toThrow(new RegExp(`already on node ${target}`));
    await expect(moveVm(store, fleet.layout, name, 'move', { target: 'nosuch', waitMs: 0 })).rejects.toThrow(/node "nosuch" not found/);
    await expect(moveVm(store, fleet.layout, 'nosuchvm', 'migrate', { waitMs: 0 })).rejects.toThrow(/vm "nosuchvm" not found/);
    expect(violations).toEqual([]);
  });

  it('a VM whose migration method is shutdown moves by stop and start', async () => {
    const name = vmName(10);
    const spec = (await store.get(fleet.layout.vm(name)))?.value as VmSpec;
    const target = NODES.find((n) => n !== spec.node) as string;
    await store.update(fleet.layout.vm(name), (current): VmSpec => {
      const base = current as VmSpec;
      return { ...base, placement: { ...base.placement, migrationMethod: 'shutdown' }, node: target, lastNode: spec.node, desiredState: 'migrate' };
    });
    await waitFor('the VM running on its new node', async () => {
      const s = (await states()).get(name);
      const now = await store.get(fleet.layout.vm(name));
      return s?.state === 'start' && s.statusNode === target && now?.value.desiredState === 'start';
    }, 60_000);
    expect(sim.world.whereIs(name)).toEqual([target]);
    expect((await sim.node(target).domainState(name)).reason).toBe('booted');
    expect(violations).toEqual([]);
  });

  it('a VM that fits nowhere stays unplaced with the reason', async () => {
    const big = { ...vmSpec(VM_COUNT), name: 'huge', uuid: '0b0b0b0b-0000-4000-8000-ffffffffffff', memoryMiB: NODE_MEMORY_MIB * 4 };
    await store.create(fleet.layout.vm('huge'), big);
    const unplaced = await waitFor('an unplaced reason', async () => (await store.get(fleet.layout.vmUnplaced('huge')))?.value);
    expect(unplaced.reason).toMatch(/memory/);
    expect((await store.get(fleet.layout.vm('huge')))?.value.node).toBeNull();
    expect(sim.world.whereIs('huge')).toEqual([]);
  });
});
