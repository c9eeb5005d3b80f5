// `pvc storage volume list` wall time with 1,000 volumes, process start included (issue 4 target:
// at most 500 ms), medians over several runs, with `node -e 0` measured in the same run as the
// baseline and the client's own listVolumes time (in this process, session open) beside it.
// The list reads ZooKeeper only, so the volumes are written straight into it, as pvc records
// them: a spec for each, a status for most (as the primary's refresh writes it), a clone parent
// for a third; and VMS_WITH_DISKS VM specs with RBD disks, so that "used by" is worked out too.
import { cpus, loadavg } from 'node:os';
import { listVolumes } from '../../common/client/storage-list.ts';
import type { PoolSpec, VmSpec, VolumeSpec, VolumeStatus } from '../../common/zk/schema.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';
import { median, ratio, summary, timeCommand } from './stats.ts';
import type { StorageBench } from './storage-fixture.ts';

const VOLUMES = 1_000;
const VMS_WITH_DISKS = 200;
const CLI_RUNS = 15;
const CLIENT_RUNS = 15;
const TARGET_MS = 500;
/** Creates sent at once while filling the tree: pipelined, without queueing thousands of timers. */
const WRITE_BATCH = 200;
const POOLS: readonly PoolSpec[] = [
  { name: 'vms', pgNum: 64, size: 3, minSize: 2 },
  { name: 'images', pgNum: 16, size: 3, minSize: 2 },
];
const GiB = 1024 ** 3;

function volumeSpec(i: number): VolumeSpec {
  if (i < 10) return { name: `golden${i}`, pool: 'images', sizeBytes: 10 * GiB, parent: null };
  const clone = i % 3 === 0;
  return { name: `disk${String(i).padStart(4, '0')}`, pool: 'vms', sizeBytes: (10 + (i % 5) * 10) * GiB, parent: clone ? { pool: 'images', volume: `golden${i % 10}`, snapshot: 'gold' } : null };
}

function vmSpec(i: number): VmSpec {
  return {
    ...TEST_GUEST_SPEC,
    name: `vm${String(i).padStart(4, '0')}`,
    uuid: `0d15c000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    disks: [{ target: 'vda', source: { type: 'rbd', pool: 'vms', image: volumeSpec(10 + i).name } }],
  };
}

export async function benchVolumeList(bench: StorageBench): Promise<Record<string, unknown>> {
  const target = await bench.cluster('bench-volume-list');
  const { store, layout } = target;
  for (const pool of POOLS) await store.transaction().create(layout.pool(pool.name), pool).create(layout.volumesDir(pool.name), {}).commit();
  for (let start = 0; start < VOLUMES; start += WRITE_BATCH) {
    const batch = Array.from({ length: Math.min(WRITE_BATCH, VOLUMES - start) }, (_, k) => volumeSpec(start + k));
    await Promise.all(batch.map((spec) => store.transaction().create(layout.volume(spec.pool, spec.name), spec).create(layout.snapshotsDir(spec.pool, spec.name), {}).commit()));
    await Promise.all(
      batch.map((spec, k) => {
        if ((start + k) % 50 === 7) return Promise.resolve(''); // not refreshed yet: no status
        const status: VolumeStatus = { inCeph: true, sizeBytes: spec.sizeBytes, parent: spec.parent, format: 2 };
        return store.create(layout.volumeStatus(spec.pool, spec.name), status);
      }),
    );
  }
  await Promise.all(Array.from({ length: 10 }, (_, i) => store.create(layout.snapshot('images', `golden${i}`, 'gold'), { name: 'gold', protected: true })));
  for (let start = 0; start < VMS_WITH_DISKS; start += WRITE_BATCH) {
    const batch = Array.from({ length: Math.min(WRITE_BATCH, VMS_WITH_DISKS - start) }, (_, k) => vmSpec(start + k));
    await Promise.all(batch.map((spec) => store.create(layout.vm(spec.name), spec)));
  }
  if (process.env.PVC_BENCH_HOLD_MS) {
    // For profiling by hand: the filled cluster stays up this long; its CLI config dir is printed.
    console.error(`holding: PVC_CONFIG_DIR=${target.cliEnv.PVC_CONFIG_DIR}`);
    await new Promise((resolve) => setTimeout(resolve, Number(process.env.PVC_BENCH_HOLD_MS)));
  }
  const loadBefore = loadavg()[0];

  const clientMs: number[] = [];
  let listed = 0;
  for (let i = 0; i < CLIENT_RUNS; i += 1) {
    const t = performance.now();
    listed = (await listVolumes(target)).length;
    clientMs.push(performance.now() - t);
  }
  if (listed !== VOLUMES) throw new Error(`listVolumes returned ${listed} volumes, expected ${VOLUMES}`);

  const pvc = ['bin/pvc.js', 'storage', 'volume', 'list'];
  await timeCommand(process.execPath, pvc, target.cliEnv); // builds the launcher's cache if it is stale
  const table: number[] = [];
  const json: number[] = [];
  const nodeStart: number[] = [];
  // Interleaved, so that a slow spell of the machine spreads over all three.
  for (let i = 0; i < CLI_RUNS; i += 1) {
    table.push(await timeCommand(process.execPath, pvc, target.cliEnv));
    json.push(await timeCommand(process.execPath, [...pvc, '--format', 'json'], target.cliEnv));
    nodeStart.push(await timeCommand(process.execPath, ['-e', '0']));
  }
  return {
    volumes: VOLUMES,
    vmsWithRbdDisks: VMS_WITH_DISKS,
    targetMs: TARGET_MS,
    pvcVolumeListTable: { ...summary(table), what: '`node bin/pvc.js storage volume list` wall time, process start included', withinTarget: median(table) <= TARGET_MS },
    pvcVolumeListJson: { ...summary(json), what: '`node bin/pvc.js storage volume list --format json` wall time' },
    baselineNodeStart: { ...summary(nodeStart), what: '`node -e 0`' },
    ratioToNodeStart: ratio(median(table), median(nodeStart)),
    clientListVolumes: { ...summary(clientMs), what: 'listVolumes() in this process, session open: the reads and the views' },
    machine: { cores: cpus().length, loadAvg1mBefore: loadBefore, loadAvg1mAfter: loadavg()[0] },
  };
}
