// pvcd driving real libvirtd + QEMU (TCG): two pvcd coordinators, each with its own libvirtd
// "node" (test/helpers/libvirt-pair.ts), run the diskless test guest end to end: placed and
// started to its console marker, adopted (not restarted) when its pvcd restarts, live-migrated
// with its uptime going on across the move, shut down through ACPI, and stopped hard.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { moveVm } from '../../common/client/vm-move.ts';
import type { VmSpec, VmState } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import { readConsole, tickUptimes, waitForConsoleLine } from '../helpers/guest-domain.ts';
import { GUEST_READY_TIMEOUT_MS, startLibvirtPair, type LibvirtPair } from '../helpers/libvirt-pair.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { guestVmSpec } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';

const NODES = ['lv1', 'lv2'] as const;
const VM = 'tguest';
let store: ZkStore;
let pair: LibvirtPair;
let fleet: PvcdFleet;
const consoleDirs = new Map<string, string>();

const consoleOf = (node: string) => path.join(consoleDirs.get(node) as string, `${VM}.log`);

async function vmState(): Promise<{ state: VmState | null; node: string | null; desired: VmState | undefined }> {
  const [spec, status] = await Promise.all([store.get(fleet.layout.vm(VM)), store.get(fleet.layout.vmStatus(VM))]);
  return { state: status?.value.state ?? null, node: status?.value.node ?? null, desired: spec?.value.desiredState };
}

async function setDesired(desiredState: VmState): Promise<void> {
  await store.update(fleet.layout.vm(VM), (current) => ({ ...(current as VmSpec), desiredState }));
}

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
  const dir = path.join(inject('testRunDir'), `lv-${process.pid}`);
  pair = await startLibvirtPair(dir, NODES);
  fleet = new PvcdFleet(inject('zkHosts'), uniqueClusterName('pvcdlv'), store, { baseDir: inject('testRunDir') });
  const ports = await findFreePorts(NODES.length);
  NODES.forEach((node, i) => {
    const consoleLogDir = path.join(dir, `console-${node}`);
    mkdirSync(consoleLogDir, { recursive: true });
    consoleDirs.set(node, consoleLogDir);
    const uri = pair.nodes[i]?.uri as string;
    fleet.start(node, 'coordinator', {
      runnables: ['placement'],
      hypervisor: { driver: 'libvirt', uri, migrateUri: `tcp://127.0.0.1:${ports[i]}`, consoleLogDir, shutdownTimeoutMs: 30_000 },
    });
  });
  await waitFor('both nodes reporting their hypervisor', async () => {
    const statuses = await Promise.all(NODES.map((n) => store.get(fleet.layout.nodeStatus(n))));
    return statuses.every((s) => s?.value.hypervisor && s.value.daemonState === 'run');
  }, 120_000);
}, 300_000);

afterAll(async () => {
  await fleet?.stopAll();
  await pair?.stop();
  await store?.close();
});

describe('pvcd with real libvirtd and QEMU', () => {
  it('places and starts the guest to its console marker', async () => {
    await store.create(fleet.layout.vm(VM), guestVmSpec(pair.guest, VM, '7e570000-0000-4000-8000-000000000001', true));
    const started = await waitFor('the guest started', async () => {
      const s = await vmState();
      return s.state === 'start' ? s : null;
    }, 120_000);
    await waitForConsoleLine(consoleOf(started.node as string), /GUEST-STAYING/, GUEST_READY_TIMEOUT_MS);
    expect(readConsole(consoleOf(started.node as string))).toMatch(/GUEST-MARKER: booted kernel/);
    const stats = await waitFor('the guest stats', async () => (await store.get(fleet.layout.vmStatus(VM)))?.value.stats, 60_000);
    expect(stats.memoryMiB).toBe(128);
    expect(stats.cpuTimeMs).toBeGreaterThan(0);
  }, 300_000);

  it('a pvcd restart adopts the running guest: it keeps its uptime, no second boot', async () => {
    const { node } = await vmState();
    const log = consoleOf(node as string);
    const boots = (readConsole(log).match(/GUEST-MARKER/g) ?? []).length;
    fleet.signal(node as string, 'SIGTERM');
    await fleet.waitExit(node as string);
    fleet.start(node as string);
    await waitFor(`${node} back in run`, async () => (await store.get(fleet.layout.nodeStatus(node as string)))?.value.daemonState === 'run' && (await store.stat(fleet.layout.nodeAlive(node as string))) !== null, 60_000);
    const ticksBefore = tickUptimes(readConsole(log)).length;
    await waitFor('two more ticks', () => tickUptimes(readConsole(log)).length >= ticksBefore + 2, 60_000);
    expect((readConsole(log).match(/GUEST-MARKER/g) ?? []).length).toBe(boots);
    const uptimes = tickUptimes(readConsole(log));
    for (let i = 1; i < uptimes.length; i += 1) expect(uptimes[i]).toBeGreaterThan(uptimes[i - 1] as number);
    expect(await vmState()).toMatchObject({ state: 'start', node });
  }, 120_000);

  it('live-migrates the guest; its uptime goes on on the other node', async () => {
    const { node: from } = await vmState();
    const to = NODES.find((n) => n !== from) as string;
    const lastUptime = Math.max(...tickUptimes(readConsole(consoleOf(from as string))));
    const result = await moveVm(store, fleet.layout, VM, 'migrate', { target: to, waitMs: 120_000 });
    expect(result).toMatchObject({ from, to, done: true });
    const toIndex = NODES.indexOf(to as (typeof NODES)[number]) as 0 | 1;
    const job = await pair.drivers[toIndex].lastJobInfo(VM);
    expect(job?.operation).toMatch(/migration/);
    expect(job?.downtimeMs).not.toBeNull();
    await waitFor('ticks on the new node', () => tickUptimes(readConsole(consoleOf(to))).length >= 2, 60_000);
    const after = tickUptimes(readConsole(consoleOf(to)));
    // No reboot: the uptime carries on from where it was, it does not start again near zero.
    expect(after[after.length - 1]).toBeGreaterThan(lastUptime);
    expect(readConsole(consoleOf(to))).not.toMatch(/GUEST-MARKER/);
    expect((await pair.drivers[1 - toIndex as 0 | 1].listDomains()).map((d) => d.name)).not.toContain(VM);
  }, 180_000);

  it('shuts the guest down through ACPI, then starts and stops it hard', async () => {
    const { node } = await vmState();
    await setDesired('shutdown');
    await waitFor('shutdown', async () => (await vmState()).state === 'shutdown', 90_000);
    expect(readConsole(consoleOf(node as string))).toMatch(/GUEST-ACPI-POWER-BUTTON/);

    await setDesired('start');
    await waitFor('running again', async () => (await vmState()).state === 'start', 90_000);
    await setDesired('stop');
    await waitFor('stopped', async () => (await vmState()).state === 'stop', 60_000);
    const index = NODES.indexOf(node as (typeof NODES)[number]) as 0 | 1;
    expect((await pair.drivers[index].domainState(VM)).state).toBe('shutoff');
  }, 240_000);
});
