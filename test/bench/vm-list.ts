// `pvc vm list` wall time with 1,000 VMs, process start included (issue 3 target: at most
// 500 ms), as JSON: medians over several runs, with `node -e 0` measured in the same run as the
// baseline, and the client's own listVms time (in this process, connection open) beside it.
// The VMs are written straight into ZooKeeper (no pvcd runs): most with a status, some unplaced
// with a reason, some placed but not reported yet, so every shown state the list derives occurs.
//
// It starts its own standalone ZooKeeper under .state/bench-vm-list and stops it at the end.
// Run: node --import tsx test/bench/vm-list.ts
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { listVms } from '../../common/client/vm-list.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout, type VmSpec, type VmStatus } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { REPO_ROOT } from '../../scripts/lib/pvcd-process.ts';
import { startEnsemble } from '../../scripts/lib/zk-ensemble.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';
import { connectStore, testAuth } from '../helpers/zk.ts';
import { benchCliEnv, median, ratio, summary, timeCommand } from './stats.ts';

const VMS = 1_000;
const NODES = ['hv1', 'hv2', 'hv3', 'hv4'];
const CLI_RUNS = 15;
const BASELINE_RUNS = 15;
const CLIENT_RUNS = 15;
const TARGET_MS = 500;
/** Creates sent at once while filling the tree: pipelined, without queueing thousands of timers. */
const WRITE_BATCH = 200;
const BENCH_DIR = path.join(REPO_ROOT, '.state', 'bench-vm-list');



function vmSpec(i: number): VmSpec {
  const hex = i.toString(16).padStart(12, '0');
  const unplaced = i % 20 === 0;
  return {
    ...TEST_GUEST_SPEC,
    name: `vm${String(i).padStart(4, '0')}`,
    uuid: `0c0c0c0c-0000-4000-8000-${hex}`,
    memoryMiB: 256 + (i % 8) * 128,
    tags: i % 3 === 0 ? ['web', 'prod'] : ['batch'],
    node: unplaced ? null : (NODES[i % NODES.length] as string),
    desiredState: i % 5 === 0 ? 'stop' : 'start',
  };
}

/** Writes the 1,000 VMs in batches of pipelined creates. */
async function fill(store: ZkStore, layout: ZkLayout): Promise<void> {
  for (const node of NODES) await store.create(layout.node(node), { name: node, role: 'hypervisor' });
  for (let start = 0; start < VMS; start += WRITE_BATCH) {
    const batch = Array.from({ length: Math.min(WRITE_BATCH, VMS - start) }, (_, k) => vmSpec(start + k));
    await Promise.all(batch.map((spec) => store.create(layout.vm(spec.name), spec)));
    await Promise.all(
      batch.map((spec, k) => {
        if (spec.node === null) return store.create(layout.vmUnplaced(spec.name), { reason: 'not enough free memory: needs 512 MiB, best node hv1 has 256 MiB' });
        if ((start + k) % 20 === 1) return Promise.resolve(''); // placed, not reported yet: pending
        const status: VmStatus = { state: spec.desiredState, node: spec.node, failureReason: null, stats: null, updatedAtMs: Date.now() };
        return store.create(layout.vmStatus(spec.name), status);
      }),
    );
  }
}


async function main(): Promise<void> {
  rmSync(BENCH_DIR, { recursive: true, force: true });
  mkdirSync(BENCH_DIR, { recursive: true });
  const ensemble = await startEnsemble({ dir: path.join(BENCH_DIR, 'zk'), size: 1, detached: false });
  const store = await connectStore(ensemble.hosts, { sessionTimeoutMs: 10_000 });
  const cluster = `bench-vm-list-${process.pid}`;
  const layout = new ZkLayout(cluster);
  try {
    await migrateSchema(store, layout);
    await fill(store, layout);
    if (process.env.PVC_BENCH_HOLD_MS) {
      // For profiling by hand: the filled cluster stays up this long; its config dir is printed.
      console.error(`holding: hosts ${ensemble.hosts} cluster ${cluster}`);
      await new Promise((resolve) => setTimeout(resolve, Number(process.env.PVC_BENCH_HOLD_MS)));
    }

    const clientMs: number[] = [];
    let listed = 0;
    for (let i = 0; i < CLIENT_RUNS; i += 1) {
      const t = performance.now();
      listed = (await listVms({ store, layout })).length;
      clientMs.push(performance.now() - t);
    }
    if (listed !== VMS) throw new Error(`listVms returned ${listed} vms, expected ${VMS}`);

    const env = benchCliEnv(BENCH_DIR, ensemble.hosts, cluster, testAuth);
    const pvc = ['bin/pvc.js', 'vm', 'list'];
    await timeCommand(process.execPath, pvc, env); // builds the launcher's cache if it is stale
    const table: number[] = [];
    const json: number[] = [];
    const nodeStart: number[] = [];
    // Interleaved, so that a slow spell of the machine spreads over all three.
    for (let i = 0; i < Math.max(CLI_RUNS, BASELINE_RUNS); i += 1) {
      if (i < CLI_RUNS) table.push(await timeCommand(process.execPath, pvc, env));
      if (i < CLI_RUNS) json.push(await timeCommand(process.execPath, [...pvc, '--format', 'json'], env));
      if (i < BASELINE_RUNS) nodeStart.push(await timeCommand(process.execPath, ['-e', '0']));
    }
    const os = await import('node:os');
    console.log(
      JSON.stringify(
        {
          benchmark: 'pvc vm list',
          date: new Date().toISOString(),
          machine: { cores: os.availableParallelism(), loadAvg1m: os.loadavg()[0] },
          vms: VMS,
          targetMs: TARGET_MS,
          pvcVmListTable: { ...summary(table), what: '`node bin/pvc.js vm list` wall time, process start included', withinTarget: median(table) <= TARGET_MS },
          pvcVmListJson: { ...summary(json), what: '`node bin/pvc.js vm list --format json` wall time' },
          baselineNodeStart: { ...summary(nodeStart), what: '`node -e 0`' },
          ratioToNodeStart: ratio(median(table), median(nodeStart)),
          clientListVms: { ...summary(clientMs), what: 'listVms() in this process, session open: the reads and the views' },
        },
        null,
        2,
      ),
    );
  } finally {
    await store.close();
    await ensemble.stop();
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
