// 100 VM disks cloned from one golden image (issue 4 target: at most 10 s in all), on real Ceph:
// - through the client library (cloneVolume: the checks in ZooKeeper, the fullness rule with its
//   reservation, `rbd snap ls` + `rbd clone`, the spec), CLONE_PARALLEL at once over one session,
//   as a provisioning tool or the API would;
// - the same one at a time, for the latency of a single clone;
// - `pvc storage volume clone SNAPSHOT VOL...` with all 100 in one call (the CLI's batch form,
//   CLONE_BATCH_CONCURRENCY at once), process start included;
// - `pvc storage volume clone` one at a time, process start included;
// - baseline: bare `rbd clone` one at a time, measured in the same run.
// The golden image's snapshot is protected beforehand, as a golden image's is (the first clone
// would otherwise protect it).
import { cpus, loadavg } from 'node:os';
import { addVolume, cloneVolume } from '../../common/client/storage-volume-add.ts';
import { addSnapshot, setSnapshotProtected } from '../../common/client/storage-snapshots.ts';
import { addPool } from '../../common/client/storage-pools.ts';
import { median, summary } from './stats.ts';
import { CLONE_BATCH_CONCURRENCY } from '../../common/client/storage-clone-many.ts';
import { forEachLimited } from '../../common/concurrency.ts';
import { timeLongCommand, type StorageBench } from './storage-fixture.ts';

const CLONES = 100;
/** Clones in flight at once through the client: each costs 2-4 short-lived rbd/ceph processes (shared reads joined). */
const CLONE_PARALLEL = 16;
const SEQUENTIAL_CLONES = 20;
const CLI_CLONES = 10;
const RBD_BASELINE_CLONES = 10;
const TARGET_TOTAL_MS = 10_000;
const GiB = 1024 ** 3;
const POOL = 'clones';
const BASE = 'golden';
const SNAPSHOT = 'gold';

export async function benchClones(bench: StorageBench): Promise<Record<string, unknown>> {
  const target = await bench.cluster('bench-clones');
  const ceph = bench.ceph;
  if (!ceph) throw new Error('the clone benchmark needs ceph');
  const load = { loadAvg1mBefore: loadavg()[0] };
  await addPool(target, POOL, { pgNum: 32, size: 1, minSize: 1 });
  await addVolume(target, { pool: POOL, volume: BASE }, 2 * GiB);
  const source = { pool: POOL, volume: BASE, snapshot: SNAPSHOT };
  await addSnapshot(target, source);
  await setSnapshotProtected(target, source, true);

  // Warm-up: the first rbd/ceph processes load their libraries from disk.
  await cloneVolume(target, source, { pool: POOL, volume: 'warmup' });

  const parallelMs: number[] = [];
  const names = Array.from({ length: CLONES }, (_, i) => `vm${String(i).padStart(3, '0')}-disk0`);
  const started = performance.now();
  await forEachLimited(names, CLONE_PARALLEL, async (volume) => {
    const t = performance.now();
    await cloneVolume(target, source, { pool: POOL, volume });
    parallelMs.push(performance.now() - t);
  });
  const totalMs = performance.now() - started;

  const sequentialMs: number[] = [];
  for (let i = 0; i < SEQUENTIAL_CLONES; i += 1) {
    const t = performance.now();
    await cloneVolume(target, source, { pool: POOL, volume: `seq${i}` });
    sequentialMs.push(performance.now() - t);
  }

  const batchNames = Array.from({ length: CLONES }, (_, i) => `${POOL}/batch${String(i).padStart(3, '0')}`);
  const cliBatchMs = await timeLongCommand(process.execPath, ['bin/pvc.js', 'storage', 'volume', 'clone', `${POOL}/${BASE}@${SNAPSHOT}`, ...batchNames], target.cliEnv);

  const cliMs: number[] = [];
  const rbdMs: number[] = [];
  const rbd = ['--conf', ceph.confPath, '--id', 'admin', '--keyring', ceph.adminKeyringPath];
  // Interleaved, so that a slow spell of the machine spreads over both.
  for (let i = 0; i < Math.max(CLI_CLONES, RBD_BASELINE_CLONES); i += 1) {
    if (i < CLI_CLONES) cliMs.push(await timeLongCommand(process.execPath, ['bin/pvc.js', 'storage', 'volume', 'clone', `${POOL}/${BASE}@${SNAPSHOT}`, `${POOL}/cli${i}`], target.cliEnv));
    if (i < RBD_BASELINE_CLONES) rbdMs.push(await timeLongCommand('rbd', [...rbd, 'clone', '--rbd-default-clone-format', '2', `${POOL}/${BASE}@${SNAPSHOT}`, `${POOL}/rbd${i}`]));
  }
  const round = (v: number) => Math.round(v);
  return {
    what: `${CLONES} copy-on-write clones of one 2 GiB image's protected snapshot (RBD layering, clone format 2)`,
    targetTotalMs: TARGET_TOTAL_MS,
    clientParallel: {
      what: `cloneVolume() through the client library, ${CLONE_PARALLEL} at once over one ZooKeeper session`,
      clones: CLONES,
      totalMs: round(totalMs),
      withinTarget: totalMs <= TARGET_TOTAL_MS,
      perCloneMs: summary(parallelMs),
    },
    clientSequential: {
      what: 'cloneVolume() one at a time: the latency of one clone',
      perCloneMs: summary(sequentialMs),
      projectedTotalFor100Ms: round(median(sequentialMs) * CLONES),
    },
    cliBatch: {
      what: `\`node bin/pvc.js storage volume clone SNAPSHOT\` with all ${CLONES} volumes in one call (${CLONE_BATCH_CONCURRENCY} at once), process start included`,
      clones: CLONES,
      totalMs: round(cliBatchMs),
      withinTarget: cliBatchMs <= TARGET_TOTAL_MS,
    },
    cliSequential: {
      what: '`node bin/pvc.js storage volume clone` one at a time, process start included',
      perCloneMs: summary(cliMs),
      projectedTotalFor100Ms: round(median(cliMs) * CLONES),
    },
    baselineRbdClone: { what: 'bare `rbd clone` one at a time (one process, no checks, no spec)', perCloneMs: summary(rbdMs) },
    machine: { cores: cpus().length, ...load, loadAvg1mAfter: loadavg()[0] },
  };
}
