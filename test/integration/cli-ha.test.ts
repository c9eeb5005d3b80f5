// The real `pvc` CLI's high-availability commands against the shared ZooKeeper ensemble, with
// the daemons' part written by the test: maintenance on|off, node fence (and its refusal when a
// fence exists), node info showing why a node is fenced, node ready refused while the fenced
// node's pvcd is not running, and the fault log (list, ack, cluster status).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { recordFault } from '../../common/client/ha.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout, type Fence, type NodeStatus } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { closeTrackedStores, connectStore, testAuth, uniqueClusterName } from '../helpers/zk.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PVC = path.join(REPO_ROOT, 'bin', 'pvc.js');
const CLI_TIMEOUT_MS = 60_000;

let store: ZkStore;
let configDir: string;
let layout: ZkLayout;

async function pvc(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await execa('node', [PVC, ...args], { cwd: REPO_ROOT, env: { PVC_CONFIG_DIR: configDir, PVC_CONNECTION: '' }, reject: false, timeout: CLI_TIMEOUT_MS, stdin: 'ignore' });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const status: NodeStatus = {
  daemonState: 'run',
  coordinatorState: 'client',
  pvcdVersion: '0.1.0',
  pid: 1000,
  keepaliveSeq: 3,
  updatedAtMs: Date.now(),
  host: { cores: 2, loadAvg: [0.25, 0.2, 0.1], memoryTotalMiB: 4096, memoryUsedMiB: 1024, memoryFreeMiB: 3072, uptimeS: 120 },
};

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'), { sessionTimeoutMs: 20_000 });
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvc-cli-ha-'));
  layout = new ZkLayout(uniqueClusterName('cliha'));
  await migrateSchema(store, layout);
  for (const name of ['n1', 'n2']) {
    await store.create(layout.node(name), { name, role: 'hypervisor' });
    await store.create(layout.nodeStatus(name), status);
  }
  // n1 runs (its session is the test's); n2 is dead.
  await store.create(layout.nodeAlive('n1'), { pid: 1000, sessionId: store.sessionId() }, 'ephemeral');
  const passwordFile = path.join(configDir, 'pw');
  fs.writeFileSync(passwordFile, `${testAuth.password}\n`, { mode: 0o600 });
  const added = await pvc(['connection', 'add', 'ha', '--hosts', inject('zkHosts'), '--cluster', layout.cluster, '--user', testAuth.user, '--password-file', passwordFile, '--default']);
  expect(added.code).toBe(0);
}, 60_000);

afterAll(async () => {
  await closeTrackedStores();
  if (configDir) fs.rmSync(configDir, { recursive: true, force: true });
});

describe('pvc high-availability commands', () => {
  it('maintenance on and off, shown by cluster status', async () => {
    expect((await pvc(['cluster', 'maintenance', 'on'])).stdout).toMatch(/maintenance\s+on \(no automatic fencing\)/);
    expect((await store.get(layout.maintenance()))?.value.on).toBe(true);
    expect((await pvc(['cluster', 'status'])).stdout).toMatch(/maintenance\s+on/);
    expect((await pvc(['cluster', 'maintenance', 'off'])).stdout).toMatch(/maintenance\s+off/);
    const bad = await pvc(['cluster', 'maintenance', 'maybe']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/maintenance must be on or off, got "maybe"/);
  });

  it('node fence writes a manual fence record, once', async () => {
    const first = await pvc(['node', 'fence', 'n2', '--reason', 'disk errors']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/node n2: fence requested/);
    expect((await store.get(layout.nodeFence('n2')))?.value).toMatchObject({ node: 'n2', reason: 'manual', detail: 'disk errors', by: null, steps: [], outcome: 'in-progress' });
    const again = await pvc(['node', 'fence', 'n2']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/node n2 is already fenced or being fenced/);
    expect((await pvc(['node', 'fence', 'nosuch'])).stderr).toMatch(/node "nosuch" not found/);
  });

  it('node info says why a node is fenced; node ready waits for the fence, for the node to run and to confirm it', async () => {
    expect((await pvc(['node', 'ready', 'n2'])).stderr).toMatch(/node n2 is still being fenced/);
    await store.update(layout.nodeFence('n2'), (current): Fence => ({ ...(current as Fence), steps: [{ step: 'power-off', result: 'done', detail: 'off', atMs: 1 }], outcome: 'fenced' }));
    const info = await pvc(['node', 'info', 'n2']);
    expect(info.stdout).toMatch(/daemon state\s+fenced \(reports run\)/);
    expect(info.stdout).toMatch(/why fenced\s+manual: disk errors \[fence fenced; power-off done\]/);
    const ready = await pvc(['node', 'ready', 'n2']);
    expect(ready.code).toBe(1);
    expect(ready.stderr).toMatch(/node n2 is fenced and its pvcd is not running; boot the node/);
    // The node boots (alive again) but its pvcd has not confirmed the record yet: refused.
    await store.create(layout.nodeAlive('n2'), { pid: 1001, sessionId: store.sessionId() }, 'ephemeral');
    const early = await pvc(['node', 'ready', 'n2']);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/node n2 runs but its pvcd has not yet confirmed the fence/);
    // Its pvcd confirms (destroyed its VMs under this record): ready removes the fence record.
    await store.update(layout.nodeFence('n2'), (current): Fence => ({ ...(current as Fence), steps: [...(current as Fence).steps, { step: 'self-fence', result: 'done', detail: 'the pvcd of n2 destroyed the vms on it', atMs: 2 }] }));
    const back = await pvc(['node', 'ready', 'n2']);
    expect(back.code).toBe(0);
    expect(back.stderr).toMatch(/fence record removed/);
    expect(await store.get(layout.nodeFence('n2'))).toBeNull();
  });

  it('lists faults, shows the open ones in cluster status, and acknowledges them', async () => {
    const a = await recordFault(store, layout, { kind: 'fence', node: 'n2', message: 'node n2 is dead (session-lost): gone' });
    await recordFault(store, layout, { kind: 'recovery', node: 'n2', message: 'node n2 fenced: 3 vm(s) restarted elsewhere' });
    const list = await pvc(['cluster', 'fault', 'list']);
    expect(list.stdout).toContain(a);
    expect(list.stdout).toMatch(/recovery\s+n2\s+no\s+node n2 fenced: 3 vm/);
    expect((await pvc(['cluster', 'status'])).stdout).toMatch(/faults\s+2 not acknowledged/);
    expect((await pvc(['cluster', 'fault', 'ack', a])).stdout).toBe('acknowledged 1 fault(s)');
    expect((await pvc(['cluster', 'status'])).stdout).toMatch(/faults\s+1 not acknowledged/);
    expect((await pvc(['cluster', 'fault', 'ack', '--all'])).stdout).toBe('acknowledged 1 fault(s)');
    expect((await pvc(['cluster', 'fault', 'list'])).stdout).toBe('no faults');
    const all = JSON.parse((await pvc(['cluster', 'fault', 'list', '--all', '--format', 'json'])).stdout) as Array<{ ackedAtMs: number | null }>;
    expect(all.length).toBe(2);
    expect(all.every((f) => f.ackedAtMs !== null)).toBe(true);
    expect((await pvc(['cluster', 'fault', 'ack'])).stderr).toMatch(/name the faults to acknowledge, or give --all/);
    expect((await pvc(['cluster', 'fault', 'ack', 'zz-nosuch'])).stderr).toMatch(/fault "zz-nosuch" not found/);
  });
});

describe('pvc node info and the bmc', () => {
  it('shows where the BMC answers and who logs in, never a password (an older document may still hold one)', async () => {
    await store.create(layout.nodeBmc('n1'), { host: '127.0.0.1', port: 16230, username: 'admin', password: 'old-secret-in-doc' });
    const table = await pvc(['node', 'info', 'n1']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/bmc\s+127\.0\.0\.1:16230 \(user admin\)/);
    const json = await pvc(['node', 'info', 'n1', '--format', 'json']);
    expect(JSON.parse(json.stdout).bmc).toEqual({ host: '127.0.0.1', port: 16230, username: 'admin' });
    expect(`${table.stdout}${json.stdout}${table.stderr}${json.stderr}`).not.toContain('old-secret-in-doc');
    expect((await pvc(['node', 'info', 'n2'])).stdout).toMatch(/bmc\s+none/);
  });
});
