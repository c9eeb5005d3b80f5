// `npm run test:faults`: a seeded fault campaign against the primary election. A real 3-server
// ZooKeeper ensemble and real pvcd coordinators take a random series of faults — SIGKILL,
// SIGSTOP/SIGCONT, SIGTERM, planned handovers, a ZooKeeper server killed, the whole ensemble
// frozen — and after every step the invariants are checked:
//   - never two primaries at work at once (the primary journals' active spans never overlap);
//   - once the faults stop, exactly one primary serves within a bounded time.
// The seed is printed first; `node --import tsx test/faults/election-campaign.ts --seed N --steps M`
// replays a run.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { requestPrimary } from '../../common/client/handover.ts';
import { errorMessage } from '../../common/errors.ts';
import { REPO_ROOT, signalIfAlive } from '../../scripts/lib/pvcd-process.ts';
import { startEnsemble, type Ensemble } from '../../scripts/lib/zk-ensemble.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore } from '../helpers/zk.ts';
import { seededRandom } from '../helpers/seeded-random.ts';

const NODES = ['f1', 'f2', 'f3', 'f4'];
const SESSION_TIMEOUT_MS = 2_000;
/** After the faults of a step are undone, a primary must serve within this. */
const RECOVERY_LIMIT_MS = SESSION_TIMEOUT_MS * 5 + 10_000;
const DEFAULT_STEPS = 30;


type Fault = 'sigkill' | 'sigstop' | 'sigterm' | 'handover' | 'zk-kill' | 'zk-freeze';
const FAULTS: Fault[] = ['sigkill', 'sigstop', 'sigterm', 'handover', 'zk-kill', 'zk-freeze'];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, steps: { type: 'string' } } });
  const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  const steps = values.steps ? Number(values.steps) : DEFAULT_STEPS;
  if (!Number.isInteger(seed) || !Number.isInteger(steps) || steps < 1) throw new Error(`bad --seed ${values.seed} or --steps ${values.steps}`);
  console.error(`election fault campaign: seed ${seed}, ${steps} steps (replay: node --import tsx test/faults/election-campaign.ts --seed ${seed} --steps ${steps})`);
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (lo: number, hi: number) => Math.floor(lo + random() * (hi - lo));

  const dir = path.join(REPO_ROOT, '.state', 'faults', `${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const ensemble: Ensemble = await startEnsemble({ dir: path.join(dir, 'zk'), size: 3, detached: false });
  const store = await connectStore(ensemble.hosts, { sessionTimeoutMs: 10_000 });
  const fleet = new PvcdFleet(ensemble.hosts, `faults-${process.pid}`, store, { baseDir: dir, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  const log: Array<{ step: number; fault: Fault; detail: string; recoveredMs: number }> = [];
  try {
    for (const node of NODES) fleet.start(node);
    await fleet.waitUntilServing(await fleet.waitForPrimary(), RECOVERY_LIMIT_MS);

    for (let step = 1; step <= steps; step += 1) {
      const fault = pick(FAULTS);
      let detail = '';
      const primary = await fleet.primary().catch(() => null);
      const victim = pick(NODES);
      switch (fault) {
        case 'sigkill':
        case 'sigterm': {
          const target = random() < 0.6 && primary ? primary : victim;
          fleet.signal(target, fault === 'sigkill' ? 'SIGKILL' : 'SIGTERM');
          await fleet.waitExit(target, 60_000);
          fleet.start(target);
          detail = target;
          break;
        }
        case 'sigstop': {
          const target = random() < 0.6 && primary ? primary : victim;
          const frozenMs = between(200, SESSION_TIMEOUT_MS * 3);
          fleet.signal(target, 'SIGSTOP');
          await sleep(frozenMs);
          fleet.signal(target, 'SIGCONT');
          detail = `${target} for ${frozenMs} ms`;
          break;
        }
        case 'handover': {
          const result = await requestPrimary(store, fleet.layout, victim, { waitMs: 0 }).catch((error) => errorMessage(error));
          detail = `to ${victim}: ${typeof result === 'string' ? result : result.outcome}`;
          break;
        }
        case 'zk-kill': {
          const server = pick(ensemble.servers);
          await ensemble.killServer(server.id, 'SIGKILL');
          await sleep(between(200, 3_000));
          await ensemble.restartServer(server.id);
          detail = `server ${server.id}`;
          break;
        }
        case 'zk-freeze': {
          const frozenMs = between(200, SESSION_TIMEOUT_MS * 2);
          for (const server of ensemble.servers) signalIfAlive(server.pid, 'SIGSTOP');
          await sleep(frozenMs);
          for (const server of ensemble.servers) signalIfAlive(server.pid, 'SIGCONT');
          detail = `${frozenMs} ms`;
          break;
        }
      }
      const recoveredAt = Date.now();
      // Serving means: the lock holder's current process has a span that has worked (ticked)
      // since the step ended, so a dead or frozen holder whose lock has not expired yet does not
      // count.
      const serving = await waitFor(`a serving primary after step ${step} (${fault} ${detail})`, async () => {
        const node = await fleet.primary();
        if (!node) return null;
        const pid = fleet.process(node).pid;
        return fleet.spans().some((s) => s.pid === pid && s.stopMs === null && s.lastActiveMs > recoveredAt) ? node : null;
      }, RECOVERY_LIMIT_MS);
      const overlaps = fleet.overlaps();
      if (overlaps.length > 0) {
        throw new Error(`step ${step} (${fault} ${detail}): two primaries at work at once: ${JSON.stringify(overlaps[0])}`);
      }
      log.push({ step, fault, detail, recoveredMs: Date.now() - recoveredAt });
      console.error(`step ${step}: ${fault} ${detail} -> primary ${serving}`);
    }
    console.log(JSON.stringify({ campaign: 'election', seed, steps, ok: true, primarySpans: fleet.spans().length, log }, null, 2));
  } finally {
    await fleet.stopAll();
    await store.close();
    await ensemble.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error) => {
  console.error(`fault campaign failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
