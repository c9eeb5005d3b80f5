// `npm run bench`'s storage benchmarks (issue 4), printed as one JSON report, each with a baseline
// measured in the same run:
//  - clone: 100 VM disks cloned from one image (target: at most 10 s in all); storage-clone.ts
//  - upload: `pvc storage volume upload` against `rbd import` of the same file (target: at least
//    90 % of its throughput); storage-upload.ts
//  - list: `pvc storage volume list` with 1,000 volumes (target: at most 500 ms wall); storage-list.ts
// It starts its own standalone ZooKeeper and (for clone and upload) a single-host Ceph with one
// bluestore OSD under .state/bench-storage, and stops them at the end, the OSD's data dropped.
// Run: node --import tsx test/bench/storage.ts [clone] [upload] [list]   (default: all three)
import { cpus, loadavg } from 'node:os';
import { benchClones } from './storage-clone.ts';
import { startStorageBench, type StorageBench } from './storage-fixture.ts';
import { benchVolumeList } from './storage-list.ts';
import { benchUpload } from './storage-upload.ts';

const SECTIONS: Record<string, { needsCeph: boolean; run: (bench: StorageBench) => Promise<Record<string, unknown>> }> = {
  list: { needsCeph: false, run: benchVolumeList },
  clone: { needsCeph: true, run: benchClones },
  upload: { needsCeph: true, run: benchUpload },
};

async function main(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !(name in SECTIONS));
  if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(', ')}: use ${Object.keys(SECTIONS).join(', ')}`);
  const names = asked.length > 0 ? Object.keys(SECTIONS).filter((name) => asked.includes(name)) : Object.keys(SECTIONS);
  const started = performance.now();
  const loadAtStart = loadavg()[0];
  const bench = await startStorageBench(names.some((name) => SECTIONS[name]?.needsCeph));
  const setupMs = Math.round(performance.now() - started);
  const results: Record<string, unknown> = {};
  try {
    for (const name of names) results[name] = await (SECTIONS[name] as (typeof SECTIONS)[string]).run(bench);
  } finally {
    await bench.stop();
  }
  console.log(
    JSON.stringify(
      {
        benchmark: 'storage (issue 4)',
        date: new Date().toISOString(),
        machine: { cores: cpus().length, loadAvg1mAtStart: loadAtStart, loadAvg1mAtEnd: loadavg()[0] },
        setupMs,
        ...results,
      },
      null,
      2,
    ),
  );
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
