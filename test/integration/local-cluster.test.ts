// The README's first command, end to end: `npm run cluster`'s script starts a 3-server ensemble,
// a single-host Ceph and 3 pvcd, writes the `local` connection and waits for a primary; a second
// start while it runs starts nothing; the CLI moves the primary role; the pool and golden image it
// made serve a copy-on-write clone that the sample RBD guest boots with and reads (and keeps
// across a live migration); `cluster:down` leaves no process behind. The sample RBD guest is the
// diskless sample plus a disk, so the diskless one is only defined here (one guest boot, not two).
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

// Ceph's bring-up, the pool and the golden image's upload come on top of the rest on a busy machine.
const script = (name: string) => run(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`], { timeoutMs: 300_000, cwd: REPO_ROOT, env });
const pvc = (...args: string[]) => run(process.execPath, ['bin/pvc.js', ...args], { timeoutMs: 30_000, cwd: REPO_ROOT, env });

/** Every PID the local cluster recorded: pvcd pid files, ZooKeeper zk.pid files and the Ceph daemons' pid files. */
function recordedPids(): number[] {
  return [...recordedPidFiles().values()];
}

function recordedPidFiles(): Map<string, number> {
  const pids = new Map<string, number>();
  const read = (file: string) => pids.set(path.relative(clusterDir, file), Number(readFileSync(file, 'utf8').trim()));
  const pvcdDir = path.join(clusterDir, 'pvcd');
  for (const f of readdirSync(pvcdDir)) if (f.endsWith('.pid')) read(path.join(pvcdDir, f));
  const zkDir = path.join(clusterDir, 'zk');
  for (const d of readdirSync(zkDir)) if (d.startsWith('zk')) read(path.join(zkDir, d, 'zk.pid'));
  const cephRun = path.join(clusterDir, 'ceph', 'run');
  for (const f of readdirSync(cephRun)) if (f.endsWith('.pid')) read(path.join(cephRun, f));
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
    expect(up.stdout).toMatch(/created pool vms and the golden image vms\/sample-base@gold/);
    expect(up.stdout).toMatch(/npx pvc storage volume clone vms\/sample-base@gold vms\/sample-rbd-disk0/);
    pids = recordedPids();
    expect(pids).toHaveLength(9); // 3 pvcd + 3 ZooKeeper servers + ceph mon, mgr, osd (libvirtd are checked by cluster-down)
    // Named by pid file, so a failure says which process died (its log is in the cluster folder).
    expect([...recordedPidFiles()].filter(([, pid]) => !isAlive(pid)).map(([file]) => file)).toEqual([]);

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

    // Storage works out of the box: the pool pvc manages, and the primary's status refresh from Ceph.
    const pools = JSON.parse((await pvc('storage', 'pool', 'list', '--format', 'json')).stdout) as Array<{ name: string; size: number }>;
    expect(pools.map((p) => [p.name, p.size])).toEqual([['vms', 1]]);
    await waitFor('a storage status refreshed from ceph', async () => {
      const status = JSON.parse((await pvc('storage', 'status', '--format', 'json')).stdout) as { status: { ceph: { osds: { up: number } } | null } | null };
      return status.status?.ceph?.osds.up === 1;
    });

    // The diskless sample is a valid definition; the RBD sample (the same guest plus a disk)
    // boots from a clone of the golden image on a node's real libvirtd, reads it, and moves live.
    await pvc('vm', 'define', path.join(clusterDir, 'sample-vm.yaml'));
    await pvc('storage', 'volume', 'clone', 'vms/sample-base@gold', 'vms/sample-rbd-disk0');
    await pvc('vm', 'define', path.join(clusterDir, 'sample-rbd-vm.yaml'));
    await run(process.execPath, ['bin/pvc.js', 'vm', 'start', 'sample-rbd', '--wait-ms', '180000'], { timeoutMs: 200_000, cwd: REPO_ROOT, env });
    await waitFor('the disk marker in pvc vm log', async () => /GUEST-DISK: vda first line: PVC-SAMPLE-RBD-DISK/.test((await pvc('vm', 'log', 'sample-rbd')).stdout), 180_000);
    const volumes = JSON.parse((await pvc('storage', 'volume', 'list', '--format', 'json')).stdout) as Array<{ name: string; parent: string | null; usedBy: string[] }>;
    expect(volumes.find((v) => v.name === 'sample-rbd-disk0')).toMatchObject({ parent: 'vms/sample-base@gold', usedBy: ['sample-rbd'] });
    const before = JSON.parse((await pvc('vm', 'info', 'sample-rbd', '--format', 'json')).stdout) as { node: string };
    await run(process.execPath, ['bin/pvc.js', 'vm', 'migrate', 'sample-rbd', '--wait-ms', '180000'], { timeoutMs: 200_000, cwd: REPO_ROOT, env });
    const after = JSON.parse((await pvc('vm', 'info', 'sample-rbd', '--format', 'json')).stdout) as { node: string; lastNode: string; state: string };
    expect(after).toMatchObject({ lastNode: before.node, state: 'start' });
    expect(after.node).not.toBe(before.node);

    const down = await script('cluster-down');
    expect(down.stdout).toMatch(/stopped pvcd pvc1/);
    expect(down.stdout).toMatch(/stopped zookeeper/);
    expect(down.stdout).toMatch(/stopped libvirtd/);
    expect(down.stdout).toMatch(/stopped ceph in /);
    await waitFor('every process gone', () => pids.every((pid) => !isAlive(pid)));

    // With nothing running, the CLI says the cluster is unreachable (exit 2).
    const unreachable = await pvc('node', 'list').then(() => 0, (error: { exitCode?: number }) => error.exitCode);
    expect(unreachable).toBe(2);
  }, 900_000);
});
