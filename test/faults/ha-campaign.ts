// `npm run test:faults` (part three): a seeded high-availability campaign. Real pvcd processes
// (placement + fencing) on one shared simulated hypervisor world, their own 3-server ZooKeeper
// ensemble, one real ipmi_sim BMC per node. Each run is one scenario, chosen by the seed:
//   sigkill        a node's pvcd is SIGKILLed (its guests keep running until the power off)
//   sigstop-long   a node's pvcd is frozen past the session timeout (fenced), woken afterwards
//   sigstop-short  frozen for less than the session timeout: nothing may be fenced
//   zk-leader      the ZooKeeper leader is SIGKILLed, restarted later
//   bmc-down       the BMC does not answer: VMs stay down until the node boots and destroys them
//   zombie-bmc-down  a node's pvcd is frozen past the session timeout while its BMC does not
//                  answer: its VMs stay down (vms-left-down) until the same pvcd wakes, destroys
//                  its guests and records its self-fence; only then are they released
//   primary-kill   the primary is SIGKILLed while it fences another node
//   netns-cut      the node in a network namespace (f3) loses its network for 0.5-8 s, silently
//                  (every packet dropped): a short cut fences nobody, a long one fences it
// Checked every 50 ms throughout: no VM runs on two nodes. After each run: every fenced node is
// booted and returned (`node ready`), every VM runs exactly once on its node within the bound,
// and the primary journals never overlapped (exactly one primary at a time).
// Replay: node --import tsx test/faults/ha-campaign.ts --seed N --runs M (the seed is printed first).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, isPvcdProcess } from '../../scripts/lib/pvcd-process.ts';
import { startEnsemble } from '../../scripts/lib/zk-ensemble.ts';
import { HaCluster } from '../helpers/ha-cluster.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore } from '../helpers/zk.ts';
import { ZkNetnsLink } from '../helpers/zk-netns-link.ts';

const NODES = ['f1', 'f2', 'f3'];
const VM_COUNT = 12;
/** pvcd's session: long enough that a ZooKeeper leader change (about a second) expires nobody. */
const SESSION_TIMEOUT_MS = 3_000;
const DEFAULT_RUNS = 10;
/** Every VM of a fenced node must run again within this (a backstop, not a benchmark). */
const RECOVERY_BOUND_MS = 90_000;

type Scenario = 'sigkill' | 'sigstop-long' | 'sigstop-short' | 'zk-leader' | 'bmc-down' | 'primary-kill' | 'netns-cut' | 'zombie-bmc-down';
const SCENARIOS: Scenario[] = ['sigkill', 'sigstop-long', 'sigstop-short', 'zk-leader', 'bmc-down', 'primary-kill', 'netns-cut', 'zombie-bmc-down'];
/** The node whose pvcd runs in a network namespace that netns-cut cuts off. */
const NETNS_NODE = 'f3';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, runs: { type: 'string' } } });
  const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  const runs = values.runs ? Number(values.runs) : DEFAULT_RUNS;
  if (!Number.isInteger(seed) || !Number.isInteger(runs) || runs < 1) throw new Error(`bad --seed ${values.seed} or --runs ${values.runs}`);
  console.error(`ha fault campaign: seed ${seed}, ${runs} runs (replay: node --import tsx test/faults/ha-campaign.ts --seed ${seed} --runs ${runs})`);
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (lo: number, hi: number) => Math.floor(lo + random() * (hi - lo));

  const dir = path.join(REPO_ROOT, '.state', 'faults', `ha-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const ensemble = await startEnsemble({ dir: path.join(dir, 'zk'), size: 3, detached: false });
  const store = await connectStore(ensemble.hosts, { sessionTimeoutMs: 10_000 });
  const link = await ZkNetnsLink.start(ensemble.hosts, 'hacamp', dir);
  const ha = await HaCluster.start({
    hosts: ensemble.hosts,
    store,
    cluster: `hafaults-${process.pid}`,
    baseDir: dir,
    nodes: NODES,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    ha: { keepaliveStaleMs: 4_000, checkIntervalMs: 100 },
    netns: { [NETNS_NODE]: link.netns },
    bmcAddress: link.hostAddress,
    nodeSections: { [NETNS_NODE]: { zookeeper: { hosts: link.hosts } } },
  });
  const results: Array<{ run: number; scenario: Scenario; detail: string; recoveredMs: number }> = [];
  try {
    await ha.waitForCluster();
    const vms = await ha.createVms('cv', VM_COUNT);
    await ha.waitAllRunning(vms, RECOVERY_BOUND_MS);

    for (let run = 1; run <= runs; run += 1) {
      const scenario = pick(SCENARIOS);
      const primary = await ha.fleet.waitForPrimary();
      const others = NODES.filter((n) => n !== primary);
      const victim = pick(others);
      const fenced: string[] = [];
      let detail = '';
      const started = Date.now();
      switch (scenario) {
        case 'sigkill': {
          const node = pick(NODES);
          ha.fleet.signal(node, 'SIGKILL');
          await ha.waitFence(node, 'fenced', RECOVERY_BOUND_MS);
          fenced.push(node);
          detail = node;
          break;
        }
        case 'sigstop-long': {
          const node = pick(NODES);
          ha.fleet.signal(node, 'SIGSTOP');
          await ha.waitFence(node, 'fenced', RECOVERY_BOUND_MS);
          await sleep(between(0, 2_000));
          ha.fleet.signal(node, 'SIGCONT');
          fenced.push(node);
          detail = node;
          break;
        }
        case 'sigstop-short': {
          const frozenMs = between(100, SESSION_TIMEOUT_MS / 2);
          ha.fleet.signal(victim, 'SIGSTOP');
          await sleep(frozenMs);
          ha.fleet.signal(victim, 'SIGCONT');
          await sleep(SESSION_TIMEOUT_MS * 2);
          if (await ha.fence(victim)) throw new Error(`run ${run}: ${victim} frozen ${frozenMs} ms (< session) was fenced`);
          detail = `${victim} for ${frozenMs} ms`;
          break;
        }
        case 'zk-leader': {
          const leader = await ensemble.leaderId();
          if (leader !== null) {
            await ensemble.killServer(leader, 'SIGKILL');
            await sleep(between(500, 3_000));
            await ensemble.restartServer(leader);
          }
          await sleep(SESSION_TIMEOUT_MS * 2);
          // A session that expired meanwhile is a node fenced (correctly: it was out of touch).
          for (const node of NODES) if (await ha.fence(node)) fenced.push(node);
          detail = `server ${leader}${fenced.length ? `; fenced ${fenced.join(', ')}` : ''}`;
          break;
        }
        case 'bmc-down': {
          ha.bmcs.setUnreachable(victim, true);
          ha.fleet.signal(victim, 'SIGKILL');
          await ha.waitFence(victim, 'vms-left-down', RECOVERY_BOUND_MS);
          ha.bmcs.setUnreachable(victim, false);
          await ha.boot(victim); // its pvcd destroys its guests, the VMs are released
          await ha.waitFence(victim, 'fenced', RECOVERY_BOUND_MS);
          fenced.push(victim);
          detail = victim;
          break;
        }
        case 'zombie-bmc-down': {
          const node = pick(NODES);
          const pid = ha.fleet.process(node).pid;
          const onNode = await ha.vmsOn(node, vms);
          ha.bmcs.setUnreachable(node, true);
          ha.fleet.signal(node, 'SIGSTOP');
          await ha.waitFence(node, 'vms-left-down', RECOVERY_BOUND_MS);
          await sleep(between(0, 2_000));
          const moved = onNode.filter((name) => ha.runningOn(name).join() !== node);
          if (moved.length > 0) throw new Error(`run ${run}: ${node} frozen, fence vms-left-down, yet ${moved.join(', ')} left it`);
          ha.fleet.signal(node, 'SIGCONT'); // the BMC still does not answer: the node must do it
          const steps = (await ha.waitFence(node, 'fenced', RECOVERY_BOUND_MS)).steps.map((s) => s.step);
          const selfFence = steps.indexOf('self-fence');
          if (selfFence < 0 || selfFence > steps.indexOf('release-vms')) throw new Error(`run ${run}: ${node}'s fence released its vms before its self-fence: ${steps.join(', ')}`);
          if (ha.fleet.process(node).pid !== pid || !isPvcdProcess(pid, ha.fleet.process(node).configPath)) throw new Error(`run ${run}: ${node}'s woken pvcd ${pid} is gone`);
          await ha.thawBmc(node);
          fenced.push(node);
          detail = `${node} (${onNode.length} vm(s))`;
          break;
        }
        case 'primary-kill': {
          ha.bmcs.setUnreachable(victim, true);
          ha.fleet.signal(victim, 'SIGKILL');
          await waitFor('a fence under way', async () => (await ha.fence(victim))?.outcome === 'in-progress', RECOVERY_BOUND_MS);
          ha.fleet.signal(primary, 'SIGKILL');
          await sleep(between(0, 1_500));
          ha.bmcs.setUnreachable(victim, false);
          await ha.waitFence(victim, 'fenced', RECOVERY_BOUND_MS);
          await ha.waitFence(primary, 'fenced', RECOVERY_BOUND_MS);
          fenced.push(victim, primary);
          detail = `${victim} while ${primary} fenced it`;
          break;
        }
        case 'netns-cut': {
          const cutMs = between(500, 8_000);
          await link.cut();
          await sleep(cutMs);
          await link.restore();
          await sleep(SESSION_TIMEOUT_MS * 2);
          for (const node of NODES) {
            if (!(await ha.fence(node))) continue;
            await ha.waitFence(node, 'fenced', RECOVERY_BOUND_MS);
            fenced.push(node);
          }
          detail = `${NETNS_NODE} for ${cutMs} ms${fenced.length ? `; fenced ${fenced.join(', ')}` : ''}`;
          break;
        }
      }
      const down = [...new Set(fenced)];
      if (down.length > 0 && down.length < NODES.length) await ha.waitAllRunning(vms, RECOVERY_BOUND_MS, down);
      const recoveredMs = Date.now() - started;
      for (const node of down) await ha.bootAndReturn(node, vms);
      await ha.waitAllRunning(vms, RECOVERY_BOUND_MS);
      const overlaps = ha.fleet.overlaps();
      if (overlaps.length > 0) ha.violations.push(`two primaries at once: ${JSON.stringify(overlaps[0])}`);
      results.push({ run, scenario, detail, recoveredMs });
      console.error(`run ${run}: ${scenario} ${detail} (recovered in ${recoveredMs} ms)`);
      if (ha.violations.length > 0) throw new Error(`after run ${run} (${scenario} ${detail}): ${ha.violations[0]}`);
    }
    console.log(JSON.stringify({ campaign: 'ha', seed, runs, ok: true, violations: ha.violations.length, vms: VM_COUNT, results }, null, 2));
  } finally {
    await ha.stop();
    await link.close();
    await store.close();
    await ensemble.stop();
  }
}

main().catch((error) => {
  console.error(`ha fault campaign failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
