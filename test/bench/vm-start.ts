// `npm run bench` (part): how long a VM takes from `define` (its spec written, unplaced) to
// running, through the whole path: the primary's placement, the node's pvcd, libvirtd, QEMU under
// TCG. Two times per run: to the status `start` (pvcd saw the domain running) and to the guest's
// GUEST-MARKER console line (the kernel booted). Baseline in the same run: `virsh start` of an
// already defined domain, timed the same way, so the figure pvc adds can be read off.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../common/exec.ts';
import type { VmSpec } from '../../common/zk/schema.ts';
import { REPO_ROOT } from '../../scripts/lib/pvcd-process.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import { startEnsemble } from '../../scripts/lib/zk-ensemble.ts';
import { readConsole } from '../helpers/guest-domain.ts';
import { startLibvirtPair } from '../helpers/libvirt-pair.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { guestVmSpec } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore } from '../helpers/zk.ts';
import { median } from './stats.ts';

const RUNS = 5;
const BENCH_DIR = path.join(REPO_ROOT, '.state', 'bench-vm-start');
const BOOT_TIMEOUT_MS = 180_000;


async function main(): Promise<void> {
  rmSync(BENCH_DIR, { recursive: true, force: true });
  mkdirSync(BENCH_DIR, { recursive: true });
  const ensemble = await startEnsemble({ dir: path.join(BENCH_DIR, 'zk'), size: 1, detached: false });
  const pair = await startLibvirtPair(path.join(BENCH_DIR, 'lv'), ['bs1', 'bs2']);
  const store = await connectStore(ensemble.hosts, { sessionTimeoutMs: 10_000 });
  const fleet = new PvcdFleet(ensemble.hosts, `vmstart-${process.pid}`, store, { baseDir: BENCH_DIR, sessionTimeoutMs: 4_000 });
  const consoleLogDir = path.join(BENCH_DIR, 'console');
  mkdirSync(consoleLogDir, { recursive: true });
  try {
    const [port] = await findFreePorts(1);
    // One node, so every run lands on the same libvirtd as the baseline.
    fleet.start('bs1', 'coordinator', { runnables: ['placement'], hypervisor: { driver: 'libvirt', uri: pair.nodes[0].uri, migrateUri: `tcp://127.0.0.1:${port}`, consoleLogDir, shutdownTimeoutMs: 5_000 } });
    await fleet.waitUntilServing(await fleet.waitForPrimary());
    await waitFor('the hypervisor reported', async () => Boolean((await store.get(fleet.layout.nodeStatus('bs1')))?.value.hypervisor), 120_000);

    const toStatus: number[] = [];
    const toMarker: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const name = `bench${i}`;
      const spec = guestVmSpec(pair.guest, name, `be4c0000-0000-4000-8000-${String(i).padStart(12, '0')}`, false);
      const log = path.join(consoleLogDir, `${name}.log`);
      const t0 = performance.now();
      await store.create(fleet.layout.vm(name), spec);
      await waitFor(`${name} start`, async () => (await store.get(fleet.layout.vmStatus(name)))?.value.state === 'start', BOOT_TIMEOUT_MS);
      toStatus.push(performance.now() - t0);
      await waitFor(`${name} marker`, () => /GUEST-MARKER/.test(readConsole(log)), BOOT_TIMEOUT_MS);
      toMarker.push(performance.now() - t0);
      // The guest powers itself off after its marker (no stay=1); stop it for the next run anyway.
      await store.update(fleet.layout.vm(name), (current): VmSpec => ({ ...(current as VmSpec), desiredState: 'stop' }));
      await waitFor(`${name} stop`, async () => (await store.get(fleet.layout.vmStatus(name)))?.value.state === 'stop', 60_000);
    }

    // Baseline: virsh define + start of the same guest on the other node, to "running".
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const xml = path.join(BENCH_DIR, `base${i}.xml`);
      const name = `base${i}`;
      const dump = await pair.drivers[0].dumpXml('bench0', { migratable: true });
      writeFileSync(xml, dump.replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`).replace(/<uuid>[^<]*<\/uuid>/, `<uuid>ba5e0000-0000-4000-8000-${String(i).padStart(12, '0')}</uuid>`).replace(/bench0\.log/, `${name}.log`));
      const t0 = performance.now();
      await run('virsh', ['-c', pair.nodes[1].uri, 'define', xml], { timeoutMs: 30_000 });
      await run('virsh', ['-c', pair.nodes[1].uri, 'start', name], { timeoutMs: 60_000 });
      baseline.push(performance.now() - t0);
      await run('virsh', ['-c', pair.nodes[1].uri, 'destroy', name], { timeoutMs: 60_000 }).catch(() => undefined);
    }

    const round = (v: number) => Math.round(v);
    console.log(
      JSON.stringify(
        {
          benchmark: 'vm-start',
          runs: RUNS,
          defineToStatusStart: { medianMs: round(median(toStatus)), samplesMs: toStatus.map(round), what: 'spec written (unplaced) -> placed -> pvcd defined+started it -> status start' },
          defineToGuestMarker: { medianMs: round(median(toMarker)), samplesMs: toMarker.map(round), what: '... -> the guest kernel printed its marker (TCG boot)' },
          baselineVirshDefineStart: { medianMs: round(median(baseline)), samplesMs: baseline.map(round), what: 'virsh define + virsh start on an idle libvirtd' },
          ratioStatusToBaseline: Math.round((median(toStatus) / median(baseline)) * 100) / 100,
        },
        null,
        2,
      ),
    );
  } finally {
    await fleet.stopAll();
    await store.close();
    await pair.stop();
    await ensemble.stop();
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
