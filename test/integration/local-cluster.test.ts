// The README's first command, end to end: `npm run cluster`'s script starts a 3-server ensemble
// and 3 pvcd, writes the `local` connection and waits for a primary; a second start while it runs
// starts nothing; the CLI moves the primary role; `cluster:down` leaves no process behind.
// It runs in its own folder and CLI config folder, so a developer's own local cluster is untouched.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../common/exec.ts';
import { REPO_ROOT, isAlive } from '../../scripts/lib/pvcd-process.ts';
import { waitFor } from '../helpers/wait.ts';

// A short folder: libvirtd's unix sockets live below it and their paths are limited to 107 bytes.
const clusterRoot = mkdtempSync(path.join(os.tmpdir(), 'pvc-lc-'));
const clusterDir = path.join(clusterRoot, 'cluster');
const configDir = mkdtempSync(path.join(os.tmpdir(), 'pvc-config-'));
const env = { ...process.env, PVC_LOCAL_CLUSTER_DIR: clusterDir, PVC_CONFIG_DIR: configDir } as Record<string, string>;

const script = (name: string) => run(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`], { timeoutMs: 120_000, cwd: REPO_ROOT, env });
const pvc = (...args: string[]) => run(process.execPath, ['bin/pvc.js', ...args], { timeoutMs: 30_000, cwd: REPO_ROOT, env });

/** Every PID the local cluster recorded: pvcd pid files and ZooKeeper zk.pid files. */
function recordedPids(): number[] {
  const pids: number[] = [];
  const read = (file: string) => pids.push(Number(readFileSync(file, 'utf8').trim()));
  const pvcdDir = path.join(clusterDir, 'pvcd');
  for (const f of readdirSync(pvcdDir)) if (f.endsWith('.pid')) read(path.join(pvcdDir, f));
  const zkDir = path.join(clusterDir, 'zk');
  for (const d of readdirSync(zkDir)) if (d.startsWith('zk')) read(path.join(zkDir, d, 'zk.pid'));
  return pids;
}

let pids: number[] = [];
afterAll(async () => {
  await script('cluster-down').catch(() => undefined);
  rmSync(clusterRoot, { recursive: true, force: true });
});

describe('npm run cluster / cluster:down', () => {
  it('starts a cluster with a primary, refuses a second one, serves the CLI, and stops everything', async () => {
    const up = await script('cluster-up');
    expect(up.stdout).toMatch(/primary coordinator: pvc[123]/);
    expect(up.stdout).toMatch(/npx pvc node list/);
    pids = recordedPids();
    expect(pids).toHaveLength(6); // 3 pvcd + 3 ZooKeeper servers (libvirtd are checked by cluster-down)
    expect(pids.every(isAlive)).toBe(true);

    const again = await script('cluster-up');
    expect(again.stdout).toMatch(/already running/);
    expect(recordedPids().sort()).toEqual([...pids].sort());

    // The CLI uses the `local` connection the script wrote.
    const list = JSON.parse((await pvc('node', 'list', '--format', 'json')).stdout) as Array<{ name: string; coordinatorState: string; daemonState: string }>;
    expect(list.map((n) => n.name)).toEqual(['pvc1', 'pvc2', 'pvc3']);
    await waitFor('all three running', async () => {
      const nodes = JSON.parse((await pvc('node', 'list', '--format', 'json')).stdout) as typeof list;
      return nodes.every((n) => n.daemonState === 'run');
    });
    const primary = list.find((n) => n.coordinatorState === 'primary')?.name ?? (JSON.parse((await pvc('cluster', 'status', '--format', 'json')).stdout) as { primary: string }).primary;
    const target = ['pvc1', 'pvc2', 'pvc3'].find((n) => n !== primary) as string;
    await pvc('node', 'primary', target);
    const info = JSON.parse((await pvc('node', 'info', target, '--format', 'json')).stdout) as { coordinatorState: string };
    expect(info.coordinatorState).toBe('primary');

    // The sample guest the script wrote runs on a node's real libvirtd, and moves live.
    await pvc('vm', 'define', path.join(clusterDir, 'sample-vm.yaml'));
    await run(process.execPath, ['bin/pvc.js', 'vm', 'start', 'sample', '--wait-ms', '180000'], { timeoutMs: 200_000, cwd: REPO_ROOT, env });
    await waitFor('the guest marker in pvc vm log', async () => /GUEST-MARKER/.test((await pvc('vm', 'log', 'sample')).stdout), 180_000);
    const before = JSON.parse((await pvc('vm', 'info', 'sample', '--format', 'json')).stdout) as { node: string };
    await run(process.execPath, ['bin/pvc.js', 'vm', 'migrate', 'sample', '--wait-ms', '180000'], { timeoutMs: 200_000, cwd: REPO_ROOT, env });
    const after = JSON.parse((await pvc('vm', 'info', 'sample', '--format', 'json')).stdout) as { node: string; lastNode: string; state: string };
    expect(after).toMatchObject({ lastNode: before.node, state: 'start' });
    expect(after.node).not.toBe(before.node);

    const down = await script('cluster-down');
    expect(down.stdout).toMatch(/stopped pvcd pvc1/);
    expect(down.stdout).toMatch(/stopped zookeeper/);
    expect(down.stdout).toMatch(/stopped libvirtd/);
    await waitFor('every process gone', () => pids.every((pid) => !isAlive(pid)));

    // With nothing running, the CLI says the cluster is unreachable (exit 2).
    const unreachable = await pvc('node', 'list').then(() => 0, (error: { exitCode?: number }) => error.exitCode);
    expect(unreachable).toBe(2);
  }, 600_000);
});
