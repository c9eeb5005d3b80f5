// `npm run bench`: the cluster-alive benchmarks, printed as JSON (medians over several runs,
// with a baseline measured in the same run so numbers from a noisy machine can be compared).
//
//  - planned handover: old primary's runnables stopped -> new primary's started (journals);
//    baseline: one ZooKeeper write round trip.
//  - takeover after SIGKILL of the primary's pvcd, with pvcd's default session timeout:
//    kill -> new primary's runnables started; compared with that session timeout.
//  - `pvc node list` wall time, process start included; baseline: `node -e 0`.
//
// It starts its own 3-server ensemble and 3 coordinators under .state/bench and stops them.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { requestPrimary } from '../../common/client/handover.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import { REPO_ROOT } from '../../scripts/lib/pvcd-process.ts';
import { startEnsemble } from '../../scripts/lib/zk-ensemble.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { connectStore, testAuth } from '../helpers/zk.ts';
import { waitFor } from '../helpers/wait.ts';
import { benchCliEnv, median, ratio, summary, timeCommand } from './stats.ts';

const HANDOVER_RUNS = 9;
const TAKEOVER_RUNS = 5;
const NODE_LIST_RUNS = 15;
const BASELINE_RUNS = 15;
/** pvcd's default (daemon/config.ts): the takeover target is this + 1 s. */
const DEFAULT_SESSION_TIMEOUT_MS = 4_000;
const NODES = ['b1', 'b2', 'b3'];
const BENCH_DIR = path.join(REPO_ROOT, '.state', 'bench');




async function main(): Promise<void> {
  rmSync(BENCH_DIR, { recursive: true, force: true });
  mkdirSync(BENCH_DIR, { recursive: true });
  const ensemble = await startEnsemble({ dir: path.join(BENCH_DIR, 'zk'), size: 3, detached: false });
  const store = await connectStore(ensemble.hosts, { sessionTimeoutMs: 10_000 });
  const cluster = `bench-${process.pid}`;
  const fleet = new PvcdFleet(ensemble.hosts, cluster, store, { baseDir: BENCH_DIR, sessionTimeoutMs: DEFAULT_SESSION_TIMEOUT_MS });
  const layout = new ZkLayout(cluster);
  try {
    for (const node of NODES) fleet.start(node);
    await fleet.waitUntilServing(await fleet.waitForPrimary());
    await waitFor('three candidates', async () => (await store.children(layout.electionDir())).length === 3);

    // Baseline for the handover: one ZooKeeper write as seen by a client.
    const writeRoundTrips: number[] = [];
    for (let i = 0; i < BASELINE_RUNS; i += 1) {
      const t = performance.now();
      await store.set(layout.clusterInfo(), { name: cluster });
      writeRoundTrips.push(performance.now() - t);
    }

    const handovers: number[] = [];
    const handoverRequests: number[] = [];
    for (let i = 0; i < HANDOVER_RUNS; i += 1) {
      const from = await fleet.waitForPrimary();
      const to = NODES[(NODES.indexOf(from) + 1) % NODES.length] as string;
      const before = fleet.spans().length;
      const result = await requestPrimary(store, layout, to, { waitMs: 30_000 });
      handoverRequests.push(result.elapsedMs);
      await fleet.waitUntilServing(to);
      const spans = fleet.spans();
      const started = spans.slice(before).find((s) => s.node === to);
      // The old primary's latest stop before the new start (each node has stopped before).
      const stopped = spans
        .filter((s) => s.node === from && s.stopMs !== null && s.stopReason?.includes('handover') && started !== undefined && s.stopMs <= started.startMs)
        .at(-1);
      if (!started || !stopped?.stopMs) throw new Error(`handover ${from} -> ${to}: journal lines missing`);
      handovers.push(started.startMs - stopped.stopMs);
    }

    const takeovers: number[] = [];
    for (let i = 0; i < TAKEOVER_RUNS; i += 1) {
      const victim = await fleet.waitForPrimary();
      await fleet.waitUntilServing(victim);
      const before = fleet.spans().length;
      const killedAt = Date.now();
      fleet.signal(victim, 'SIGKILL');
      await fleet.waitExit(victim);
      const next = await fleet.waitForPrimary((n) => n !== victim, 60_000);
      await fleet.waitUntilServing(next, 60_000);
      const started = fleet.spans().slice(before).find((s) => s.node === next);
      if (!started) throw new Error(`takeover after killing ${victim}: no journal start`);
      takeovers.push(started.startMs - killedAt);
      fleet.start(victim); // back in the line for the next run
      await waitFor(`${victim} re-joined`, async () => (await store.children(layout.electionDir())).some((c) => c.startsWith(`${victim}_`)), 60_000);
    }

    // `pvc node list` through the CLI's own connection file.
    const env = benchCliEnv(BENCH_DIR, ensemble.hosts, cluster, testAuth);
    await timeCommand(process.execPath, ['bin/pvc.js', 'node', 'list'], env); // warm the transform cache
    const nodeList: number[] = [];
    for (let i = 0; i < NODE_LIST_RUNS; i += 1) nodeList.push(await timeCommand(process.execPath, ['bin/pvc.js', 'node', 'list'], env));
    const nodeStart: number[] = [];
    for (let i = 0; i < BASELINE_RUNS; i += 1) nodeStart.push(await timeCommand(process.execPath, ['-e', '0']));

    const report = {
      benchmark: 'cluster-alive',
      date: new Date().toISOString(),
      machine: { cores: (await import('node:os')).availableParallelism(), loadAvg1m: (await import('node:os')).loadavg()[0] },
      plannedHandover: {
        ...summary(handovers),
        what: 'old primary runnables stopped -> new primary runnables started (journal timestamps)',
        targetMs: 1_000,
        requestToDoneAsSeenByClient: summary(handoverRequests),
        baselineZkWriteRoundTrip: summary(writeRoundTrips),
        ratioToZkWrite: ratio(median(handovers), median(writeRoundTrips)),
      },
      takeoverAfterSigkill: {
        ...summary(takeovers),
        what: 'SIGKILL of the primary pvcd -> new primary runnables started',
        sessionTimeoutMs: DEFAULT_SESSION_TIMEOUT_MS,
        targetMs: DEFAULT_SESSION_TIMEOUT_MS + 1_000,
        ratioToSessionTimeout: ratio(median(takeovers), DEFAULT_SESSION_TIMEOUT_MS),
      },
      pvcNodeList: {
        ...summary(nodeList),
        what: '`node bin/pvc.js node list` wall time, process start included, 3 nodes',
        targetMs: 300,
        baselineNodeStart: summary(nodeStart),
        ratioToNodeStart: ratio(median(nodeList), median(nodeStart)),
      },
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await fleet.stopAll();
    await store.close();
    await ensemble.stop();
  }
}

main().catch((error) => {
  console.error(`bench: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
