// vitest globalSetup: one shared 3-server ZooKeeper ensemble per test run, under
// .state/test-runs/<pid>-<time>/zk. Tests reach it through inject('zkHosts') and work under
// their own cluster name (uniqueClusterName), so test files running at once never collide.
// The returned teardown stops it whether tests passed or failed; the servers are children of
// this process (not detached), so they also die with it if vitest itself is killed.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { stopCephClustersUnder } from '../../scripts/lib/ceph-cluster.ts';
import { stopLibvirtNodesUnder } from '../../scripts/lib/libvirt-node.ts';
import { startEnsemble } from '../../scripts/lib/zk-ensemble.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the shared ensemble: 127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3 */
    zkHosts: string;
    /** This run's folder; a test that starts its own servers puts them under it. */
    testRunDir: string;
  }
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEST_RUNS_DIR = path.join(REPO_ROOT, '.state', 'test-runs');
/** Finished runs whose logs are kept for a look after a failure; older ones are removed. */
const KEPT_RUNS = 5;
/** Far above the 1.6-1.9 s a quorum takes here, for a machine shared with other runs. */
const ENSEMBLE_READY_TIMEOUT_MS = 90_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await stopLeftoverLibvirtNodes();
  pruneFinishedRuns();
  const runDir = path.join(TEST_RUNS_DIR, `${process.pid}-${Date.now()}`);
  const zkDir = path.join(runDir, 'zk');
  const ensemble = await startEnsemble({ dir: zkDir, size: 3, tickTimeMs: 500, detached: false, readyTimeoutMs: ENSEMBLE_READY_TIMEOUT_MS });
  try {
    project.provide('zkHosts', ensemble.hosts);
    project.provide('testRunDir', runDir);
  } catch (error) {
    await ensemble.stop();
    throw error;
  }
  return async () => {
    // libvirtd daemonizes (it is no child of this process): stop nodes a failed test file left.
    await stopLibvirtNodesUnder(runDir);
    // Ceph daemons fork too: stop the run's shared cluster (test/helpers/ceph.ts) and any other.
    await stopCephClustersUnder(runDir, { dropData: true });
    await ensemble.stop();
    // The logs stay for a look after a failure; the data (preallocated transaction logs) goes.
    for (const server of ensemble.servers) rmSync(path.join(server.dir, 'data'), { recursive: true, force: true });
  };
}

/** libvirt nodes of runs whose vitest process died before its teardown could stop them. */
async function stopLeftoverLibvirtNodes(): Promise<void> {
  if (!existsSync(TEST_RUNS_DIR)) return;
  for (const name of readdirSync(TEST_RUNS_DIR)) {
    const match = /^(\d+)-\d+$/.exec(name);
    if (match && !isAlive(Number(match[1]))) {
      await stopLibvirtNodesUnder(path.join(TEST_RUNS_DIR, name));
      await stopCephClustersUnder(path.join(TEST_RUNS_DIR, name), { dropData: true });
    }
  }
}

/** Removes all but the newest KEPT_RUNS run folders whose vitest process is gone. */
function pruneFinishedRuns(): void {
  if (!existsSync(TEST_RUNS_DIR)) return;
  const finished = readdirSync(TEST_RUNS_DIR)
    .map((name) => ({ name, match: /^(\d+)-(\d+)$/.exec(name) }))
    .filter((run) => run.match !== null && !isAlive(Number(run.match[1])))
    .sort((a, b) => Number(b.match?.[2]) - Number(a.match?.[2]));
  for (const run of finished.slice(KEPT_RUNS)) rmSync(path.join(TEST_RUNS_DIR, run.name), { recursive: true, force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
