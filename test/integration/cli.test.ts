// The real `pvc` CLI (node bin/pvc.js, a child process with its own PVC_CONFIG_DIR) against the
// shared real ZooKeeper ensemble. The cluster state is written with the store as pvcd would
// write it (specs, status documents, alive ephemerals, the primary lock, election candidates);
// no pvcd runs, so the test plays the daemon's part of a handover itself.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { NodeView } from '../../common/client/views.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { SCHEMA_VERSION, ZkLayout, type CoordinatorState, type DaemonState, type NodeRole, type NodeStatus } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, testAuth, uniqueClusterName } from '../helpers/zk.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PVC = path.join(REPO_ROOT, 'bin', 'pvc.js');
/** A backstop for a hung CLI; the CLI's own timeouts are far shorter. */
const CLI_TIMEOUT_MS = 60_000;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

let hosts: string;
let store: ZkStore;
let configDir: string;

async function pvc(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const startMs = Date.now();
  const result = await execa('node', [PVC, ...args], {
    cwd: REPO_ROOT,
    env: { PVC_CONFIG_DIR: configDir, PVC_CONNECTION: '', ...env },
    reject: false,
    timeout: CLI_TIMEOUT_MS,
    stdin: 'ignore',
    stripFinalNewline: false,
  });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr), elapsedMs: Date.now() - startMs };
}

async function pvcJson<T>(args: string[]): Promise<T> {
  const result = await pvc([...args, '--format', 'json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

function status(daemonState: DaemonState, coordinatorState: CoordinatorState): NodeStatus {
  return {
    daemonState,
    coordinatorState,
    pvcdVersion: '0.1.0',
    pid: 1000,
    keepaliveSeq: 3,
    updatedAtMs: Date.now(),
    host: { cores: 2, loadAvg: [0.25, 0.2, 0.1], memoryTotalMiB: 4096, memoryUsedMiB: 1024, memoryFreeMiB: 3072, uptimeS: 120 },
  };
}

/** What one simulated node has: its spec, and optionally a status, a session, a candidacy. */
interface SimNode {
  name: string;
  role: NodeRole;
  status?: NodeStatus;
  alive?: boolean;
  candidate?: boolean;
}

/** Writes a cluster the way its pvcds would; the ephemerals belong to the test's session. */
async function simulateCluster(prefix: string, nodes: SimNode[], primary: string | null): Promise<ZkLayout> {
  const layout = new ZkLayout(uniqueClusterName(prefix));
  await migrateSchema(store, layout);
  for (const node of nodes) {
    await store.create(layout.node(node.name), { name: node.name, role: node.role });
    if (node.status) await store.create(layout.nodeStatus(node.name), node.status);
    if (node.alive) await store.create(layout.nodeAlive(node.name), { pid: 1000, sessionId: store.sessionId() }, 'ephemeral');
    if (node.candidate) await store.create(layout.newCandidate(node.name), { node: node.name }, 'ephemeral-sequential');
  }
  if (primary) await store.create(layout.primary(), { node: primary, sessionId: store.sessionId() }, 'ephemeral');
  return layout;
}

/** The daemon side of a handover: the lock moves to `to` and the request is removed, at once. */
async function movePrimary(layout: ZkLayout, to: string): Promise<void> {
  await store.transaction().remove(layout.primary()).create(layout.primary(), { node: to, sessionId: store.sessionId() }, 'ephemeral').remove(layout.handover()).commit();
}

async function addConnection(name: string, cluster: string, connectionHosts = hosts): Promise<void> {
  const passwordFile = path.join(configDir, `${name}.pw`);
  fs.writeFileSync(passwordFile, `${testAuth.password}\n`, { mode: 0o600 });
  const result = await pvc(['connection', 'add', name, '--hosts', connectionHosts, '--cluster', cluster, '--user', testAuth.user, '--password-file', passwordFile, '--replace']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

beforeAll(async () => {
  hosts = inject('zkHosts');
  // A session long enough that a stalled machine does not expire the simulated ephemerals.
  store = await connectStore(hosts, { sessionTimeoutMs: 20_000 });
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvc-cli-test-'));
});

afterAll(async () => {
  await closeTrackedStores();
  fs.rmSync(configDir, { recursive: true, force: true });
});

describe('the launcher', () => {
  it('gives the same help from its cached build and from the TypeScript through tsx', async () => {
    const cached = await pvc(['node', '--help']);
    const viaTsx = await pvc(['node', '--help'], { PVC_NO_BUILD_CACHE: '1' });
    expect(cached.code).toBe(0);
    expect(viaTsx).toMatchObject({ code: 0, stdout: cached.stdout, stderr: '' });
    expect(cached.stdout).toContain('Examples:');
  });
});

describe('pvc connection', () => {
  it('adds, lists (without passwords), makes default and removes connections in a 0600 file', async () => {
    await addConnection('first', 'somewhere');
    await addConnection('second', 'elsewhere');
    const file = path.join(configDir, 'connections.yaml');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const duplicate = await pvc(['connection', 'add', 'first', '--hosts', hosts, '--cluster', 'x', '--user', 'u', '--password', 'p']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('pvc: connection first already exists');

    const list = await pvcJson<Array<Record<string, unknown>>>(['connection', 'list']);
    expect(list.filter((c) => c.name === 'first' || c.name === 'second')).toEqual([
      { name: 'first', hosts, cluster: 'somewhere', user: testAuth.user, default: true },
      { name: 'second', hosts, cluster: 'elsewhere', user: testAuth.user, default: false },
    ]);
    const table = await pvc(['connection', 'list']);
    expect(table.stdout).toMatch(/^NAME\s+DEFAULT\s+HOSTS\s+CLUSTER\s+USER/);
    for (const text of [table.stdout, JSON.stringify(list), (await pvc(['connection', 'list', '--format', 'yaml'])).stdout]) {
      expect(text).not.toContain(testAuth.password);
    }

    expect((await pvc(['connection', 'default', 'second'])).code).toBe(0);
    expect((await pvcJson<Array<{ name: string; default: boolean }>>(['connection', 'list'])).find((c) => c.default)?.name).toBe('second');

    for (const name of ['first', 'second']) {
      const removed = await pvc(['connection', 'remove', name]);
      expect(removed.code).toBe(0);
      expect(removed.stdout).toBe(`removed connection ${name}\n`);
    }
    expect((await pvcJson<Array<{ name: string }>>(['connection', 'list'])).map((c) => c.name)).not.toContain('first');
    const again = await pvc(['connection', 'remove', 'first']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('unknown connection "first"');
  });
});

describe('reading a cluster', () => {
  let layout: ZkLayout;
  let conn: string;

  beforeAll(async () => {
    layout = await simulateCluster(
      'cli-read',
      [
        { name: 'c1', role: 'coordinator', status: status('run', 'primary'), alive: true, candidate: true },
        { name: 'c2', role: 'coordinator', status: status('run', 'secondary'), alive: true, candidate: true },
        // Claims primary in its (stale) status; the lock says c1.
        { name: 'c3', role: 'coordinator', status: status('run', 'primary'), alive: true, candidate: true },
        // Its status says run, but its session is gone: dead.
        { name: 'gone', role: 'coordinator', status: status('run', 'secondary'), alive: false },
        { name: 'hv1', role: 'hypervisor', status: status('run', 'client'), alive: true },
        { name: 'hv2', role: 'hypervisor', status: status('stop', 'client'), alive: false },
        { name: 'newbie', role: 'hypervisor' },
      ],
      'c1',
    );
    conn = 'read';
    await addConnection(conn, layout.cluster);
  });

  const expected: Record<string, Pick<NodeView, 'role' | 'daemonState' | 'coordinatorState' | 'alive' | 'reportedDaemonState'>> = {
    c1: { role: 'coordinator', daemonState: 'run', coordinatorState: 'primary', alive: true, reportedDaemonState: 'run' },
    c2: { role: 'coordinator', daemonState: 'run', coordinatorState: 'secondary', alive: true, reportedDaemonState: 'run' },
    c3: { role: 'coordinator', daemonState: 'run', coordinatorState: 'secondary', alive: true, reportedDaemonState: 'run' },
    gone: { role: 'coordinator', daemonState: 'dead', coordinatorState: 'secondary', alive: false, reportedDaemonState: 'run' },
    hv1: { role: 'hypervisor', daemonState: 'run', coordinatorState: 'client', alive: true, reportedDaemonState: 'run' },
    hv2: { role: 'hypervisor', daemonState: 'stop', coordinatorState: 'client', alive: false, reportedDaemonState: 'stop' },
    newbie: { role: 'hypervisor', daemonState: 'init', coordinatorState: 'client', alive: false, reportedDaemonState: null },
  };

  it('lists nodes as json, with dead and primary derived from the ephemerals', async () => {
    const nodes = await pvcJson<NodeView[]>(['--connection', conn, 'node', 'list']);
    expect(nodes.map((n) => n.name)).toEqual(Object.keys(expected));
    for (const node of nodes) expect(node).toMatchObject({ name: node.name, ...expected[node.name] });
    expect(nodes[0]?.host).toEqual(status('run', 'primary').host);
    expect(nodes.find((n) => n.name === 'newbie')?.host).toBeNull();
  });

  it('lists nodes as yaml and as an aligned table', async () => {
    const yaml = await pvc(['--connection', conn, 'node', 'list', '--format', 'yaml']);
    expect(yaml.code).toBe(0);
    const parsed = parseYaml(yaml.stdout) as NodeView[];
    expect(parsed.map((n) => [n.name, n.daemonState, n.coordinatorState])).toEqual(Object.entries(expected).map(([name, e]) => [name, e.daemonState, e.coordinatorState]));

    // The launcher's cached build and tsx agree (yaml is loaded lazily, a case where they could differ).
    const viaTsx = await pvc(['--connection', conn, 'node', 'list', '--format', 'yaml'], { PVC_NO_BUILD_CACHE: '1' });
    expect(parseYaml(viaTsx.stdout)).toEqual(parsed);

    const table = await pvc(['--connection', conn, 'node', 'list']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ROLE\s+DAEMON\s+COORDINATOR\s+DOMAIN\s+PVCD/);
    expect(lines).toHaveLength(1 + Object.keys(expected).length);
    const roleColumn = lines[0]?.indexOf('ROLE');
    for (const line of lines.slice(1)) expect(line.indexOf(line.includes('coordinator') ? 'coordinator' : 'hypervisor')).toBe(roleColumn);
    expect(lines.find((l) => l.startsWith('gone '))).toMatch(/^gone\s+coordinator\s+dead\s+secondary\s/);
    expect(lines.find((l) => l.startsWith('c1 '))).toMatch(/^c1\s+coordinator\s+run\s+primary\s/);
  });

  it('shows one node in all three formats', async () => {
    const json = await pvcJson<NodeView>(['--connection', conn, 'node', 'info', 'gone']);
    expect(json).toMatchObject({ name: 'gone', ...expected.gone, pvcdVersion: '0.1.0', pid: 1000 });
    const yaml = await pvc(['--connection', conn, 'node', 'info', 'c1', '--format', 'yaml']);
    expect(parseYaml(yaml.stdout)).toMatchObject({ name: 'c1', ...expected.c1 });
    const table = await pvc(['--connection', conn, 'node', 'info', 'gone']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^name\s+gone$/m);
    expect(table.stdout).toMatch(/^daemon state\s+dead \(reports run\)$/m);
    expect(table.stdout).toMatch(/^alive\s+no$/m);
  });

  it('refuses an unknown node and a bad format with exit 1, naming the value', async () => {
    const unknown = await pvc(['--connection', conn, 'node', 'info', 'ghost']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toBe(`pvc: node ghost not found in cluster ${layout.cluster}\n`);
    const format = await pvc(['--connection', conn, 'node', 'list', '--format', 'xml']);
    expect(format.code).toBe(1);
    expect(format.stderr).toBe('pvc: invalid format "xml": use one of table, json, yaml\n');
  });

  it('shows the cluster status with every zookeeper server and its mode', async () => {
    const view = await pvcJson<Record<string, unknown>>(['--connection', conn, 'cluster', 'status']);
    expect(view).toMatchObject({
      cluster: layout.cluster,
      schemaVersion: SCHEMA_VERSION,
      primary: 'c1',
      nodes: { total: 7, coordinators: 4, hypervisors: 3, byDaemonState: { init: 1, run: 4, shutdown: 0, stop: 1, dead: 1, fenced: 0 } },
    });
    const servers = view.zookeeper as Array<{ server: string; mode: string }>;
    expect(servers.map((s) => s.server)).toEqual(hosts.split(','));
    expect(servers.filter((s) => s.mode === 'leader')).toHaveLength(1);
    expect(servers.filter((s) => s.mode === 'follower')).toHaveLength(servers.length - 1);
    const table = await pvc(['--connection', conn, 'cluster', 'status']);
    expect(table.stdout).toMatch(/^primary\s+c1$/m);
    expect(table.stdout).toMatch(/^ZOOKEEPER SERVER\s+MODE$/m);
    expect(view.defaultVmSelector).toBe('mem');
  });

  it('changes the default vm selector, and refuses one that does not exist', async () => {
    const set = await pvcJson<{ defaultVmSelector: string }>(['--connection', conn, 'cluster', 'set', '--default-vm-selector', 'memprov']);
    expect(set.defaultVmSelector).toBe('memprov');
    expect((await store.get(layout.clusterInfo()))?.value.defaultVmSelector).toBe('memprov');
    const bad = await pvc(['--connection', conn, 'cluster', 'set', '--default-vm-selector', 'fastest']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('pvc: invalid vm selector "fastest": use one of mem, memprov, vcpus, load, vms\n');
    expect((await store.get(layout.clusterInfo()))?.value.defaultVmSelector).toBe('memprov');
    await pvc(['--connection', conn, 'cluster', 'set', '--default-vm-selector', 'mem']);
  });

  it('says a cluster that does not exist does not exist', async () => {
    await addConnection('nocluster', uniqueClusterName('cli-missing'));
    const result = await pvc(['--connection', 'nocluster', 'node', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^pvc: cluster "cli-missing-[a-z0-9-]+" does not exist at /);
  });

  it('exits 2 within seconds when zookeeper is unreachable, naming the hosts', async () => {
    const [port] = await findFreePorts(1);
    const deadHosts = `127.0.0.1:${port}`;
    await addConnection('nowhere', layout.cluster, deadHosts);
    const result = await pvc(['--connection', 'nowhere', 'node', 'list']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`pvc: cannot reach zookeeper at ${deadHosts}`);
    expect(result.elapsedMs).toBeLessThan(15_000); // the CLI gives up after 3 s; the rest is a loaded machine's slack
  });
});

describe('moving the primary', () => {
  async function handoverCluster(prefix: string, primary = 'c1'): Promise<{ layout: ZkLayout; conn: string }> {
    const layout = await simulateCluster(
      prefix,
      [
        { name: 'c1', role: 'coordinator', status: status('run', 'primary'), alive: true, candidate: true },
        { name: 'c2', role: 'coordinator', status: status('run', 'secondary'), alive: true, candidate: true },
        { name: 'c3', role: 'coordinator', status: status('run', 'secondary'), alive: true, candidate: true },
        { name: 'down', role: 'coordinator', status: status('run', 'secondary'), alive: false },
        { name: 'waiting', role: 'coordinator', status: status('init', 'secondary'), alive: true },
        { name: 'hv1', role: 'hypervisor', status: status('run', 'client'), alive: true },
      ],
      primary,
    );
    await addConnection(prefix, layout.cluster);
    return { layout, conn: prefix };
  }

  it('refuses nodes that cannot be primary, naming the node and why, and changes nothing', async () => {
    const { layout, conn } = await handoverCluster('cli-refuse');
    const cases: Array<[string[], number, string]> = [
      [['node', 'primary', 'ghost'], 1, `pvc: node ghost not found in cluster ${layout.cluster}`],
      [['node', 'primary', 'hv1'], 1, 'pvc: node hv1 is a hypervisor, not a coordinator'],
      [['node', 'primary', 'down'], 1, 'pvc: node down is not alive'],
      [['node', 'primary', 'waiting'], 1, 'pvc: node waiting is not an election candidate'],
      [['node', 'secondary', 'hv1'], 1, 'pvc: node hv1 is a hypervisor, not a coordinator'],
      [['node', 'secondary', 'ghost'], 1, 'pvc: node ghost not found'],
    ];
    for (const [args, code, message] of cases) {
      const result = await pvc(['--connection', conn, ...args]);
      expect({ args, code: result.code, stderr: result.stderr }).toEqual({ args, code, stderr: expect.stringContaining(message) as string });
    }

    const already = await pvc(['--connection', conn, 'node', 'primary', 'c1']);
    expect(already.code).toBe(0);
    expect(already.stdout).toBe('node c1 is already primary; nothing changed\n');
    const alreadyJson = await pvcJson<Record<string, unknown>>(['--connection', conn, 'node', 'secondary', 'c2']);
    expect(alreadyJson).toMatchObject({ node: 'c2', outcome: 'already', primary: 'c1', request: null });

    expect(await store.get(layout.handover())).toBeNull();
    expect((await store.get(layout.primary()))?.value.node).toBe('c1');
  });

  it('refuses while there is no primary, and when no other coordinator can take over', async () => {
    const { layout, conn } = await handoverCluster('cli-noprimary');
    await store.remove(layout.primary());
    const none = await pvc(['--connection', conn, 'node', 'primary', 'c2']);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('pvc: cannot make c2 primary: no primary right now, election in progress; try again\n');

    const lonely = await simulateCluster('cli-lonely', [{ name: 'solo', role: 'coordinator', status: status('run', 'primary'), alive: true, candidate: true }], 'solo');
    await addConnection('lonely', lonely.cluster);
    const result = await pvc(['--connection', 'lonely', 'node', 'secondary', 'solo']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pvc: node solo stays primary: no other coordinator can take over');
    expect(await store.get(layout.handover())).toBeNull();
    expect(await store.get(lonely.handover())).toBeNull();
  });

  it('writes {from, to} for node primary and waits for the new primary', async () => {
    const { layout, conn } = await handoverCluster('cli-primary');
    const running = pvc(['--connection', conn, 'node', 'primary', 'c2', '--wait-ms', '30000', '--format', 'json']);
    const request = await waitFor('the handover request', async () => (await store.get(layout.handover()))?.value);
    expect(request).toEqual({ from: 'c1', to: 'c2' });
    expect((await store.get(layout.primary()))?.value.node).toBe('c1'); // the client only asks

    await movePrimary(layout, 'c2');
    const result = await running;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      node: 'c2',
      outcome: 'completed',
      previousPrimary: 'c1',
      primary: 'c2',
      request: { from: 'c1', to: 'c2' },
      replacedRequest: null,
    });
  });

  it('writes {from, to: null} for node secondary and waits for anyone else to be primary', async () => {
    const { layout, conn } = await handoverCluster('cli-secondary');
    const running = pvc(['--connection', conn, 'node', 'secondary', 'c1']);
    const request = await waitFor('the handover request', async () => (await store.get(layout.handover()))?.value);
    expect(request).toEqual({ from: 'c1', to: null });

    await movePrimary(layout, 'c3');
    const result = await running;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^node c3 is primary now \(was c1\), after \d+ ms\n$/);
  });

  it('replaces a pending request, returns at once with --wait-ms 0, and times out with exit 2 leaving it pending', async () => {
    const { layout, conn } = await handoverCluster('cli-pending');
    await store.create(layout.handover(), { from: 'c1', to: 'c3' });

    const now = await pvcJson<Record<string, unknown>>(['--connection', conn, 'node', 'primary', 'c2', '--wait-ms', '0']);
    expect(now).toMatchObject({ outcome: 'requested', previousPrimary: 'c1', primary: 'c1', request: { from: 'c1', to: 'c2' }, replacedRequest: { from: 'c1', to: 'c3' } });
    expect((await store.get(layout.handover()))?.value).toEqual({ from: 'c1', to: 'c2' });

    const late = await pvc(['--connection', conn, 'node', 'secondary', 'c1', '--wait-ms', '300']);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/^pvc: node c1 is still primary after \d+ ms; the handover request \{from: c1, to: null\} is still pending at /);
    expect((await store.get(layout.handover()))?.value).toEqual({ from: 'c1', to: null });
    expect((await store.get(layout.primary()))?.value.node).toBe('c1');
  });
});
