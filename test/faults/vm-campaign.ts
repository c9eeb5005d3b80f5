// `npm run test:faults` (part two): a seeded fault campaign against VMs. Real pvcd processes on
// one shared simulated hypervisor world take random faults (SIGKILL and restart, SIGSTOP for up
// to three session timeouts) while VMs are migrated, moved off flushed nodes and back, stopped,
// restarted and started. Checked every 50 ms throughout: no VM is ever defined or running on
// two nodes. At the end, with the faults undone and every VM asked to run, each must run on
// exactly the node its spec names, within a bounded time.
// Replay: node --import tsx test/faults/vm-campaign.ts --seed N --steps M (the seed is printed first).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setNodeDomainState } from '../../common/client/node-domain.ts';
import { moveVm } from '../../common/client/vm-move.ts';
import { readAllVmFacts } from '../../common/client/vm-read.ts';
import { errorMessage } from '../../common/errors.ts';
import type { VmSpec, VmState } from '../../common/zk/schema.ts';
import { REPO_ROOT } from '../../scripts/lib/pvcd-process.ts';
import { startEnsemble } from '../../scripts/lib/zk-ensemble.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { startSimWorldServer } from '../helpers/sim-world-server.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore } from '../helpers/zk.ts';

const NODES = ['v1', 'v2', 'v3'];
const VM_COUNT = 30;
const SESSION_TIMEOUT_MS = 2_000;
const DEFAULT_STEPS = 25;
const CONVERGE_LIMIT_MS = 120_000;
const INVARIANT_CHECK_MS = 50;

type Fault = 'sigkill' | 'sigstop' | 'migrate' | 'flush-ready' | 'state';
const FAULTS: Fault[] = ['sigkill', 'sigstop', 'migrate', 'flush-ready', 'state'];
const STATES: VmState[] = ['stop', 'shutdown', 'restart', 'start', 'start'];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, steps: { type: 'string' } } });
  const seed = values.seed ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
  const steps = values.steps ? Number(values.steps) : DEFAULT_STEPS;
  if (!Number.isInteger(seed) || !Number.isInteger(steps) || steps < 1) throw new Error(`bad --seed ${values.seed} or --steps ${values.steps}`);
  console.error(`vm fault campaign: seed ${seed}, ${steps} steps (replay: node --import tsx test/faults/vm-campaign.ts --seed ${seed} --steps ${steps})`);
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const between = (lo: number, hi: number) => Math.floor(lo + random() * (hi - lo));

  const dir = path.join(REPO_ROOT, '.state', 'faults', `vm-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const ensemble = await startEnsemble({ dir: path.join(dir, 'zk'), size: 3, detached: false });
  const store = await connectStore(ensemble.hosts, { sessionTimeoutMs: 10_000 });
  const sim = await startSimWorldServer(NODES.map((name) => ({ name, cpus: 16, memoryMiB: 16_384 })), { acpiShutdownMs: 200, migrationMs: 150 });
  const fleet = new PvcdFleet(ensemble.hosts, `vmfaults-${process.pid}`, store, { baseDir: dir, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  const violations: string[] = [];
  const names = Array.from({ length: VM_COUNT }, (_, i) => `fvm${String(i).padStart(2, '0')}`);
  const watcher = setInterval(() => {
    for (const name of names) {
      const where = sim.world.whereIs(name);
      if (where.length > 1) violations.push(`${name} on ${where.join(' and ')}`);
    }
  }, INVARIANT_CHECK_MS);
  const log: Array<{ step: number; fault: Fault; detail: string }> = [];
  try {
    const consoleLogDir = path.join(dir, 'console');
    mkdirSync(consoleLogDir, { recursive: true });
    for (const node of NODES) {
      fleet.start(node, 'coordinator', { runnables: ['placement'], hypervisor: { driver: 'sim', uri: sim.url, peerUri: `sim://${node}`, consoleLogDir, shutdownTimeoutMs: 2_000 } });
    }
    await fleet.waitForPrimary();
    for (const [i, name] of names.entries()) {
      await store.create(fleet.layout.vm(name), { ...TEST_GUEST_SPEC, name, uuid: `fa017000-0000-4000-8000-${String(i).padStart(12, '0')}`, node: null, desiredState: 'start' });
    }
    await converge(fleet, store, names, sim);

    for (let step = 1; step <= steps; step += 1) {
      const fault = pick(FAULTS);
      const node = pick(NODES);
      const vm = pick(names);
      let detail = '';
      switch (fault) {
        case 'sigkill':
          fleet.signal(node, 'SIGKILL');
          await fleet.waitExit(node, 60_000);
          fleet.start(node);
          detail = node;
          break;
        case 'sigstop': {
          const frozenMs = between(200, SESSION_TIMEOUT_MS * 3);
          fleet.signal(node, 'SIGSTOP');
          await sleep(frozenMs);
          fleet.signal(node, 'SIGCONT');
          detail = `${node} for ${frozenMs} ms`;
          break;
        }
        case 'migrate': {
          const result = await moveVm(store, fleet.layout, vm, pick(['migrate', 'move'] as const), { waitMs: 0 }).catch((error) => errorMessage(error));
          detail = `${vm}: ${typeof result === 'string' ? result : `${result.from} -> ${result.to}`}`;
          break;
        }
        case 'flush-ready': {
          await setNodeDomainState(store, fleet.layout, node, 'flush', { waitMs: 0 });
          await sleep(between(100, 1_500));
          await setNodeDomainState(store, fleet.layout, node, 'ready', { waitMs: 0 });
          detail = node;
          break;
        }
        case 'state': {
          const desiredState = pick(STATES);
          await store.update(fleet.layout.vm(vm), (current): VmSpec => ({ ...(current as VmSpec), desiredState }));
          detail = `${vm} -> ${desiredState}`;
          break;
        }
      }
      log.push({ step, fault, detail });
      console.error(`step ${step}: ${fault} ${detail}`);
      if (violations.length > 0) throw new Error(`after step ${step} (${fault} ${detail}): a VM on two nodes: ${violations[0]}`);
      await sleep(between(0, 500));
    }

    // Undo: every node ready, every VM asked to run; all must converge.
    for (const node of NODES) await setNodeDomainState(store, fleet.layout, node, 'ready', { waitMs: 0 });
    for (const name of names) {
      await store.update(fleet.layout.vm(name), (current): VmSpec => ({ ...(current as VmSpec), desiredState: 'start' }));
    }
    const convergedMs = await converge(fleet, store, names, sim);
    if (violations.length > 0) throw new Error(`a VM on two nodes: ${violations[0]}`);
    console.log(JSON.stringify({ campaign: 'vms', seed, steps, ok: true, vms: VM_COUNT, convergedMs, log }, null, 2));
  } finally {
    clearInterval(watcher);
    await fleet.stopAll();
    await sim.close();
    await store.close();
    await ensemble.stop();
  }
}

/** Until every VM runs, reported `start` by the node its spec names, and only there. */
async function converge(fleet: PvcdFleet, store: Awaited<ReturnType<typeof connectStore>>, names: string[], sim: Awaited<ReturnType<typeof startSimWorldServer>>): Promise<number> {
  const started = Date.now();
  await waitFor('every VM running on its node, once', async () => {
    const facts = await readAllVmFacts(store, fleet.layout);
    return (
      facts.length === names.length &&
      facts.every((f) => {
        const node = f.spec.value.node;
        return node !== null && f.spec.value.desiredState === 'start' && f.status?.state === 'start' && f.status.node === node && sim.world.whereIs(f.spec.value.name).join() === node;
      })
    );
  }, CONVERGE_LIMIT_MS);
  return Date.now() - started;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().catch((error) => {
  console.error(`vm fault campaign failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
