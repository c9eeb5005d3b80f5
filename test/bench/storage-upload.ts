// Upload throughput (issue 4 target: `pvc storage volume upload` at least 90 % of `rbd import` of
// the same file in the same run): a raw file of random bytes (no zero runs, which rbd import
// would skip), imported UPLOAD_RUNS times each way, the two interleaved and alternating which goes
// first (the file is in the page cache for both after the first read). Wall time from process
// start to exit; each volume is removed again before the next run.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { addPool } from '../../common/client/storage-pools.ts';
import { removeVolume } from '../../common/client/storage-volume-remove.ts';
import { run } from '../../common/exec.ts';
import { median, ratio, summary } from './stats.ts';
import { BENCH_DIR, timeLongCommand, type StorageBench } from './storage-fixture.ts';

const MiB = 1024 ** 2;
/** PVC_BENCH_UPLOAD_MIB changes it (a quick check with a small file). */
const UPLOAD_BYTES = Number(process.env.PVC_BENCH_UPLOAD_MIB ?? 256) * MiB;
const UPLOAD_RUNS = 3;
const TARGET_RATIO = 0.9;
const POOL = 'uploads';
const CHUNK_BYTES = 8 * MiB;
const RBD_RM_TIMEOUT_MS = 120_000;

function writeRandomFile(file: string, sizeBytes: number): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    for (let done = 0; done < sizeBytes; done += CHUNK_BYTES) writeSync(fd, randomBytes(Math.min(CHUNK_BYTES, sizeBytes - done)));
  } finally {
    closeSync(fd);
  }
}

const mibPerS = (ms: number): number => Math.round((UPLOAD_BYTES / MiB / (ms / 1000)) * 10) / 10;

export async function benchUpload(bench: StorageBench): Promise<Record<string, unknown>> {
  const target = await bench.cluster('bench-upload');
  const ceph = bench.ceph;
  if (!ceph) throw new Error('the upload benchmark needs ceph');
  await addPool(target, POOL, { pgNum: 32, size: 1, minSize: 1 });
  const file = path.join(BENCH_DIR, 'upload.raw');
  writeRandomFile(file, UPLOAD_BYTES);
  const loadBefore = loadavg()[0];
  const rbd = ['--conf', ceph.confPath, '--id', 'admin', '--keyring', ceph.adminKeyringPath];
  const pvcMs: number[] = [];
  const rbdMs: number[] = [];
  try {
    const pvcRun = async (i: number) => {
      pvcMs.push(await timeLongCommand(process.execPath, ['bin/pvc.js', 'storage', 'volume', 'upload', `${POOL}/pvc${i}`, file, '--image-format', 'raw'], target.cliEnv));
      await removeVolume(target, { pool: POOL, volume: `pvc${i}` });
    };
    const rbdRun = async (i: number) => {
      // The same command the driver runs for a raw upload (transfer.ts), bare.
      rbdMs.push(await timeLongCommand('rbd', [...rbd, 'import', '--image-format', '2', file, `${POOL}/rbd${i}`]));
      await run('rbd', [...rbd, 'rm', '--no-progress', `${POOL}/rbd${i}`], { timeoutMs: RBD_RM_TIMEOUT_MS });
    };
    for (let i = 0; i < UPLOAD_RUNS; i += 1) {
      if (i % 2 === 0) {
        await rbdRun(i);
        await pvcRun(i);
      } else {
        await pvcRun(i);
        await rbdRun(i);
      }
    }
  } finally {
    rmSync(file, { force: true });
  }
  const pvcThroughput = mibPerS(median(pvcMs));
  const rbdThroughput = mibPerS(median(rbdMs));
  const throughputRatio = ratio(pvcThroughput, rbdThroughput);
  return {
    what: `a ${UPLOAD_BYTES / MiB} MiB raw file of random bytes, ${UPLOAD_RUNS} runs each way, interleaved`,
    fileMiB: UPLOAD_BYTES / MiB,
    targetRatio: TARGET_RATIO,
    pvcUpload: { what: '`node bin/pvc.js storage volume upload POOL/VOL FILE --image-format raw`, process start included', ...summary(pvcMs), medianMiBPerS: pvcThroughput },
    baselineRbdImport: { what: '`rbd import --image-format 2 FILE POOL/VOL`', ...summary(rbdMs), medianMiBPerS: rbdThroughput },
    throughputRatio,
    withinTarget: throughputRatio >= TARGET_RATIO,
    overheadMs: Math.round(median(pvcMs) - median(rbdMs)),
    machine: { cores: cpus().length, loadAvg1mBefore: loadBefore, loadAvg1mAfter: loadavg()[0] },
  };
}
