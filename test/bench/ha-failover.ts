// `npm run bench` (part): failover time. A node running 20 VMs dies (its pvcd SIGKILLed together
// with its guests); measured until all 20 run elsewhere, median over RUNS runs, split into:
//   detection  the kill -> the primary's fence record (the session expiry dominates)
//   fence      the record -> the power off confirmed by the BMC and the blocklist step recorded
//   restart    the blocklist step -> every VM reported `start` on its new node (the release of the
//              VMs by the primary, then the new nodes' pvcd starting them)
// Default pvcd settings (timeouts and ha sections as documented), real pvcd processes, a
// 1-server ZooKeeper, real ipmi_sim BMCs, simulated hypervisors (guest boot time not included).
// All clocks read here are of this one machine. Prints JSON.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Fence } from '../../common/zk/schema.ts';
import { REPO_ROOT } from '../../scripts/lib/pvcd-process.ts';
import { startEnsemble } from '../../scripts/lib/zk-ensemble.ts';
import { HaCluster } from '../helpers/ha-cluster.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore } from '../helpers/zk.ts';
import { summary } from './stats.ts';

const RUNS = 5;
const VMS = 20;
const NODES = ['b1', 'b2', 'b3'];
const VICTIM = 'b3';
const BENCH_DIR = path.join(REPO_ROOT, '.state', 'bench-ha-failover');
const WAIT_MS = 120_000;
/** pvcd's documented defaults (daemon/config.ts): the bench measures what a user gets. */
const DEFAULT_TIMEOUTS = { sessionTimeoutMs: 4_000, keepaliveIntervalMs: 1_000 };

async function main(): Promise<void> {
  rmSync(BENCH_DIR, { recursive: true, force: true });
  mkdirSync(BENCH_DIR, { recursive: true });
  const ensemble = await startEnsemble({ dir: path.join(BENCH_DIR, 'zk'), size: 1, detached: false });
  const store = await connectStore(ensemble.hosts, { sessionTimeoutMs: 10_000 });
  const ha = await HaCluster.start({ hosts: ensemble.hosts, store, cluster: `hafailover-${process.pid}`, baseDir: BENCH_DIR, nodes: NODES, timeouts: DEFAULT_TIMEOUTS });
  const samples = { total: [] as number[], detection: [] as number[], fence: [] as number[], restart: [] as number[] };
  try {
    await ha.waitForCluster();
    // All 20 on the victim: given a node directly (placement only places VMs without one).
    const vms = await ha.createVms('fo', VMS, { node: VICTIM });
    await ha.waitAllRunning(vms, WAIT_MS);
    for (let run = 0; run < RUNS; run += 1) {
      if ((await ha.vmsOn(VICTIM, vms)).length !== VMS) throw new Error(`run ${run}: not every vm is on ${VICTIM}`);
      // The node dies: pvcd and guests at once (a crash, not a clean stop).
      const t0 = Date.now();
      ha.fleet.signal(VICTIM, 'SIGKILL');
      const hv = ha.sim.node(VICTIM);
      for (const name of vms) await hv.destroy(name);
      await ha.waitAllRunning(vms, WAIT_MS, [VICTIM]);
      const t1 = Date.now();
      const fence = (await ha.fence(VICTIM)) as Fence;
      const at = (step: string) => fence.steps.find((s) => s.step === step)?.atMs ?? Number.NaN;
      samples.total.push(t1 - t0);
      samples.detection.push(fence.startedAtMs - t0);
      samples.fence.push(at('blocklist') - fence.startedAtMs);
      samples.restart.push(t1 - at('blocklist'));
      console.error(`run ${run}: ${t1 - t0} ms (detection ${fence.startedAtMs - t0}, fence ${at('blocklist') - fence.startedAtMs}, restart ${t1 - at('blocklist')})`);
      // Back for the next run: the node boots, is returned, its VMs come home.
      await ha.waitFence(VICTIM, 'fenced', WAIT_MS);
      await ha.bootAndReturn(VICTIM, vms, WAIT_MS);
      await waitFor('every vm home again', async () => (await ha.vmsOn(VICTIM, vms)).length === VMS, WAIT_MS);
      await ha.waitAllRunning(vms, WAIT_MS);
    }
    console.log(JSON.stringify({
      benchmark: 'ha-failover',
      vms: VMS,
      settings: { ...DEFAULT_TIMEOUTS, ha: 'defaults (keepaliveStaleMs 5000, checkIntervalMs 250, fenceFailurePolicy leave-down)', zookeeper: '1 server', hypervisor: 'sim', bmc: 'ipmi_sim' },
      totalMs: summary(samples.total),
      detectionMs: summary(samples.detection),
      fenceMs: summary(samples.fence),
      restartMs: summary(samples.restart),
      violations: ha.violations.length,
    }, null, 2));
  } finally {
    await ha.stop();
    await store.close();
    await ensemble.stop();
  }
}

main().catch((error) => {
  console.error(`ha failover bench failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
