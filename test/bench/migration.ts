// `node --import tsx test/bench/migration.ts`: live migration of the 128 MiB test guest between
// two real libvirtd nodes (QEMU TCG), printed as JSON with medians over several runs back and
// forth: wall time of the migrate call, libvirt's job time and switch-over downtime (from
// `domjobinfo --completed` on the destination), once with QEMU's default downtime limit and
// once with the 50 ms target as the limit. Also define -> running latency (the virsh
// calls) and define -> console marker (the guest booted), with `virsh list` as a baseline.
//
// It starts its own two nodes under .state/bench/migration and stops them.
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CompletedJob, HypervisorDriver } from '../../daemon/drivers/hypervisor/port.ts';
import { REPO_ROOT } from '../../scripts/lib/pvcd-process.ts';
import { guestDomainXml, waitForConsoleLine } from '../helpers/guest-domain.ts';
import { GUEST_READY_TIMEOUT_MS, startLibvirtPair, type LibvirtPair } from '../helpers/libvirt-pair.ts';
import { waitFor } from '../helpers/wait.ts';
import { median, summary } from './stats.ts';

const BENCH_DIR = path.join(REPO_ROOT, '.state', 'bench', 'migration');
/** Migrations per downtime setting, alternating A -> B and B -> A. */
const MIGRATION_RUNS = 6;
const DEFINE_RUNS = 3;
const BASELINE_RUNS = 9;
const MIGRATION_TIMEOUT_MS = 180_000;
const TARGET_DOWNTIME_MS = 50;
const QEMU_DEFAULT_DOWNTIME_MS = 300;


async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

/** define -> running (virsh returned and the state says so), then -> GUEST-MARKER on the console. */
async function defineToRunning(pair: LibvirtPair, driver: HypervisorDriver, run: number): Promise<{ runningMs: number; markerMs: number }> {
  const name = `bench-boot-${run}`;
  const uuid = `be7c0000-0000-4000-8000-${String(run).padStart(12, '0')}`;
  const consoleLog = pair.consoleLog(name, 0);
  const started = performance.now();
  await driver.define(guestDomainXml({ name, uuid, guest: pair.guest, consoleLog }));
  await driver.start(name);
  await waitFor(`${name} running`, async () => (await driver.domainState(name)).state === 'running');
  const runningMs = performance.now() - started;
  await waitForConsoleLine(consoleLog, /GUEST-MARKER/, GUEST_READY_TIMEOUT_MS);
  const markerMs = performance.now() - started;
  await driver.destroy(name);
  await driver.undefine(name);
  return { runningMs, markerMs };
}

async function migrations(pair: LibvirtPair, name: string, uuid: string, maxDowntimeMs: number | undefined): Promise<{ wall: number[]; jobs: CompletedJob[] }> {
  const wall: number[] = [];
  const jobs: CompletedJob[] = [];
  for (let i = 0; i < MIGRATION_RUNS; i += 1) {
    // The guest is on node 0 before every even run.
    const from = (i % 2) as 0 | 1;
    const to = (1 - from) as 0 | 1;
    const destinationXml = guestDomainXml({ name, uuid, guest: pair.guest, consoleLog: pair.consoleLog(name, to) });
    const target = await pair.targetOf(to);
    const { ms } = await timed(() => pair.drivers[from].migrateLive(name, target, { timeoutMs: MIGRATION_TIMEOUT_MS, maxDowntimeMs, destinationXml }));
    const job = await pair.drivers[to].lastJobInfo(name);
    if (!job) throw new Error(`no completed job on node ${to} after migration ${i}`);
    wall.push(ms);
    jobs.push(job);
  }
  return { wall, jobs };
}

function migrationReport(result: { wall: number[]; jobs: CompletedJob[] }, limitMs: number): Record<string, unknown> {
  const downtimes = result.jobs.map((j) => j.downtimeMs ?? Number.NaN);
  return {
    downtimeLimitMs: limitMs,
    downtime: summary(downtimes),
    jobTime: summary(result.jobs.map((j) => j.timeElapsedMs)),
    wallTime: summary(result.wall),
    dataTransferredMiB: Math.round(median(result.jobs.map((j) => j.dataProcessedBytes / (1024 * 1024))) * 10) / 10,
    targetDowntimeMs: TARGET_DOWNTIME_MS,
    downtimeMedianWithinTarget: median(downtimes) <= TARGET_DOWNTIME_MS,
  };
}

async function main(): Promise<void> {
  rmSync(BENCH_DIR, { recursive: true, force: true });
  const pair = await startLibvirtPair(BENCH_DIR, ['ba', 'bb']);
  try {
    const [a] = pair.drivers;
    const baseline: number[] = [];
    for (let i = 0; i < BASELINE_RUNS; i += 1) baseline.push((await timed(() => a.listDomains())).ms);

    const boots = [];
    for (let i = 0; i < DEFINE_RUNS; i += 1) boots.push(await defineToRunning(pair, a, i));

    const name = 'bench-mover';
    const uuid = 'be7c0000-0000-4000-8000-0000000000ff';
    await a.define(guestDomainXml({ name, uuid, guest: pair.guest, consoleLog: pair.consoleLog(name, 0) }));
    await a.start(name);
    await pair.waitGuestReady(name, 0);
    const defaultLimit = await migrations(pair, name, uuid, undefined);
    const targetLimit = await migrations(pair, name, uuid, TARGET_DOWNTIME_MS);

    const report = {
      benchmark: 'libvirt-migration',
      date: new Date().toISOString(),
      machine: { cores: os.availableParallelism(), loadAvg1m: os.loadavg()[0] },
      guest: { memoryMiB: 128, accel: 'tcg', kernel: pair.guest.kernelVersion },
      baselineVirshList: summary(baseline),
      defineToRunning: { ...summary(boots.map((b) => b.runningMs)), what: 'define + start -> domstate running (virsh calls)' },
      defineToConsoleMarker: { ...summary(boots.map((b) => b.markerMs)), what: 'define + start -> GUEST-MARKER on the serial console (TCG boot)' },
      liveMigrationQemuDefaultLimit: migrationReport(defaultLimit, QEMU_DEFAULT_DOWNTIME_MS),
      liveMigrationLimit50ms: migrationReport(targetLimit, TARGET_DOWNTIME_MS),
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await pair.stop();
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
