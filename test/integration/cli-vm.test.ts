// `pvc vm` end to end: the real CLI (node bin/pvc.js, a child process with its own
// PVC_CONFIG_DIR) against a small real cluster on the shared ensemble: two pvcd coordinators
// with placement, on one simulated hypervisor world (as test/cluster/vms-sim.test.ts sets it
// up). Define -> start --wait -> list/info -> stop --wait -> remove really happen: the sim world
// is asked where each domain runs. Plus the failure paths a person meets: bad input and refusals
// (exit 1, the value named), a start that fails (exit 1, the reason), a wait that runs out and
// an unreachable cluster (exit 2).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import type { SetStateResult } from '../../common/client/vm-state.ts';
import type { VmInfoView, VmView } from '../../common/client/vm-views.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { startSimWorldServer, type SimWorldServer } from '../helpers/sim-world-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, testAuth, uniqueClusterName } from '../helpers/zk.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PVC = path.join(REPO_ROOT, 'bin', 'pvc.js');
/** A backstop for a hung CLI; its own waits below are far shorter. */
const CLI_TIMEOUT_MS = 90_000;
/** What --wait-ms gets: generous, since two cores are shared by everything the suite runs. */
const WAIT_MS = '60000';
const NODES = ['c1', 'c2'];
const NODE_MEMORY_MIB = 8_192;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let sim: SimWorldServer;
let fleet: PvcdFleet;
let configDir: string;
let consoleLogDir: string;

async function pvc(args: string[], options: { input?: string; connection?: string } = {}): Promise<CliResult> {
  const result = await execa('node', [PVC, ...args], {
    cwd: REPO_ROOT,
    env: { PVC_CONFIG_DIR: configDir, PVC_CONNECTION: options.connection ?? '' },
    reject: false,
    timeout: CLI_TIMEOUT_MS,
    stripFinalNewline: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

async function pvcJson<T>(args: string[]): Promise<T> {
  const result = await pvc([...args, '--format', 'json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

function definitionFile(name: string, definition: Record<string, unknown>): string {
  const file = path.join(configDir, `${name}.yaml`);
  fs.writeFileSync(file, stringify(definition));
  return file;
}

/** A diskless guest booting a kernel, as the real test guest does; the sim world only reads its XML. */
function guest(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    vcpus: 1,
    memoryMiB: 128,
    boot: { kind: 'kernel', kernel: '/srv/pvc/guest/vmlinuz', initrd: '/srv/pvc/guest/initrd.gz', cmdline: 'console=ttyS0' },
    serial: { log: true },
    tags: ['web'],
    ...extra,
  };
}

beforeAll(async () => {
  const hosts = inject('zkHosts');
  const store = await connectStore(hosts, { sessionTimeoutMs: 20_000 });
  // Guests power off 300 ms after the ACPI button, like a quick real guest.
  sim = await startSimWorldServer(NODES.map((name) => ({ name, cpus: 8, memoryMiB: NODE_MEMORY_MIB })), { acpiShutdownMs: 300 });
  fleet = new PvcdFleet(hosts, uniqueClusterName('clivm'), store, { baseDir: inject('testRunDir') });
  consoleLogDir = path.join(fleet.dir, 'console');
  fs.mkdirSync(consoleLogDir, { recursive: true });
  for (const node of NODES) {
    fleet.start(node, 'coordinator', { runnables: ['placement'], hypervisor: { driver: 'sim', uri: sim.url, consoleLogDir, shutdownTimeoutMs: 3_000 } });
  }
  await fleet.waitUntilServing(await fleet.waitForPrimary());
  await waitFor('every node reporting its hypervisor', async () => {
    const statuses = await Promise.all(NODES.map((n) => store.get(fleet.layout.nodeStatus(n))));
    return statuses.every((s) => s?.value.hypervisor?.memoryMiB === NODE_MEMORY_MIB && s.value.daemonState === 'run');
  });

  configDir = fs.mkdtempSync(path.join(fleet.dir, 'pvc-config-'));
  const [closedPort] = await findFreePorts(1);
  fs.writeFileSync(
    path.join(configDir, 'connections.yaml'),
    stringify({
      default: 'test',
      connections: [
        { name: 'test', hosts, cluster: fleet.cluster, user: testAuth.user, password: testAuth.password },
        { name: 'dead', hosts: `127.0.0.1:${closedPort}`, cluster: fleet.cluster, user: testAuth.user, password: testAuth.password },
      ],
    }),
    { mode: 0o600 },
  );
});

afterAll(async () => {
  await fleet?.stopAll();
  await sim?.close();
  await closeTrackedStores();
});

describe('pvc vm on a running cluster', () => {
  it('defines, starts, lists, shows, dumps, logs, stops and removes a VM', async () => {
    const defined = await pvc(['vm', 'define', definitionFile('web1', guest('web1'))]);
    expect(defined.stderr).toBe('');
    expect(defined.stdout).toMatch(/^defined vm web1 \(uuid [0-9a-f-]{36}\): desired state stop, placement chooses its node\n$/);

    const started = await pvcJson<SetStateResult>(['vm', 'start', 'web1', '--wait-ms', WAIT_MS]);
    expect(started).toMatchObject({ name: 'web1', action: 'start', outcome: 'completed', previousDesiredState: 'stop', state: 'start' });
    const node = started.node as string;
    expect(NODES).toContain(node);
    expect(sim.world.whereIs('web1')).toEqual([node]);
    expect((await sim.node(node).domainState('web1')).state).toBe('running');

    const list = await pvcJson<VmView[]>(['vm', 'list']);
    expect(list.find((v) => v.name === 'web1')).toMatchObject({ name: 'web1', state: 'start', desiredState: 'start', node, statusNode: node, vcpus: 1, memoryMiB: 128, tags: ['web'], failureReason: null });
    expect((await pvcJson<VmView[]>(['vm', 'list', '--tag', 'web', '--state', 'start', '--node', node])).map((v) => v.name)).toContain('web1');
    expect((await pvcJson<VmView[]>(['vm', 'list', '--state', 'stop'])).map((v) => v.name)).not.toContain('web1');
    const table = await pvc(['vm', 'list']);
    expect(table.stdout).toMatch(new RegExp(`^web1\\s+start\\s+start\\s+${node}\\s`, 'm'));

    const info = await pvcJson<VmInfoView>(['vm', 'info', 'web1']);
    expect(info).toMatchObject({ name: 'web1', state: 'start', node, boot: { kind: 'kernel', kernel: '/srv/pvc/guest/vmlinuz' }, serial: { log: true }, rawXml: false });

    const xml = await pvc(['vm', 'dump', 'web1']);
    expect(xml.code).toBe(0);
    expect(xml.stdout).toContain('<name>web1</name>');
    expect(xml.stdout).toContain(`<log file='${path.join(consoleLogDir, 'web1.log')}'`);
    const spec = await pvc(['vm', 'dump', 'web1', '--spec']);
    expect(spec.stdout).toContain(`uuid: ${info.uuid}`);

    // The test plays the guest's serial console: the sim world writes no log.
    fs.writeFileSync(path.join(consoleLogDir, 'web1.log'), 'booting\nPVC-TEST-GUEST-READY\nuptime 1\n');
    expect(await pvc(['vm', 'log', 'web1', '--lines', '2'])).toMatchObject({ code: 0, stdout: 'PVC-TEST-GUEST-READY\nuptime 1\n' });

    const running = await pvc(['vm', 'remove', 'web1', '--yes']);
    expect(running.code).toBe(1);
    expect(running.stderr).toContain(`pvc: vm web1 is start on node ${node}: stop it first`);
    expect(sim.world.whereIs('web1')).toEqual([node]);

    const stopped = await pvcJson<SetStateResult>(['vm', 'stop', 'web1', '--wait-ms', WAIT_MS]);
    expect(stopped).toMatchObject({ outcome: 'completed', state: 'stop', node });
    expect((await sim.node(node).domainState('web1')).state).toBe('shutoff');

    expect(await pvc(['vm', 'remove', 'web1', '--yes'])).toMatchObject({ code: 0, stdout: 'removed vm web1 (last reported stop)\n' });
    const gone = await pvc(['vm', 'info', 'web1']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`pvc: vm web1 not found in cluster ${fleet.cluster}`);
    // Its node lets go of the domain once the spec is gone.
    await waitFor('web1 undefined on its node', () => sim.world.whereIs('web1').length === 0);
  });

  it('restarts and shuts down a pinned VM, waiting for each', async () => {
    expect((await pvc(['vm', 'define', definitionFile('app1', guest('app1')), '--node', 'c2', '--start'])).stdout).toContain('desired state start, node c2');
    await pvcJson<SetStateResult>(['vm', 'start', 'app1', '--wait-ms', WAIT_MS]);
    const startsBefore = sim.node('c2').calls.filter((c) => c.operation === 'start' && c.domain === 'app1').length;

    const restarted = await pvcJson<SetStateResult>(['vm', 'restart', 'app1', '--wait-ms', WAIT_MS]);
    expect(restarted).toMatchObject({ outcome: 'completed', state: 'start', node: 'c2' });
    expect(sim.node('c2').calls.filter((c) => c.operation === 'start' && c.domain === 'app1').length).toBe(startsBefore + 1);
    expect((await pvcJson<VmInfoView>(['vm', 'info', 'app1'])).desiredState).toBe('start');

    const shut = await pvc(['vm', 'shutdown', 'app1', '--wait']);
    expect(shut).toMatchObject({ code: 0, stderr: '' });
    expect(shut.stdout).toMatch(/^vm app1 is shutdown on node c2 after \d+ ms\n$/);
    expect((await sim.node('c2').domainState('app1')).state).toBe('shutoff');
  });

  it('reports a failed start with its reason (exit 1), and a new start after a fix resets it', async () => {
    // A NIC on a network without a bridge on the node: the node cannot render the domain.
    await pvc(['vm', 'define', definitionFile('bad1', guest('bad1', { nics: [{ network: 'nonet' }] })), '--node', 'c1']);
    const failed = await pvc(['vm', 'start', 'bad1', '--wait-ms', WAIT_MS]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('pvc: vm bad1 failed on node c1: vm "bad1" has a nic on network "nonet", which has no bridge on node "c1"');
    expect((await pvcJson<VmView[]>(['vm', 'list', '--state', 'fail'])).map((v) => v.name)).toEqual(['bad1']);

    // Applying the same file again changes nothing; without the NIC the start succeeds.
    expect((await pvc(['vm', 'modify', 'bad1', definitionFile('bad1', guest('bad1', { nics: [{ network: 'nonet' }] }))])).stdout).toContain('unchanged');
    expect((await pvc(['vm', 'modify', 'bad1', '-'], { input: stringify(guest('bad1')) })).code).toBe(0);
    const again = await pvcJson<SetStateResult>(['vm', 'start', 'bad1', '--wait-ms', WAIT_MS]);
    expect(again).toMatchObject({ outcome: 'completed', resetFailure: true, state: 'start', node: 'c1' });
    expect(sim.world.whereIs('bad1')).toEqual(['c1']);
  });

  it('shows a VM that fits nowhere as unplaced with the reason; dump refuses it; a wait for it runs out (exit 2)', async () => {
    await pvc(['vm', 'define', definitionFile('huge', guest('huge', { memoryMiB: NODE_MEMORY_MIB * 4 })), '--start']);
    const [view] = await waitFor('an unplaced reason', async () => {
      const vms = await pvcJson<VmView[]>(['vm', 'list', '--state', 'unplaced']);
      return vms.length === 1 && vms[0]?.unplacedReason ? vms : null;
    });
    expect(view).toMatchObject({ name: 'huge', node: null, desiredState: 'start' });
    expect(view?.unplacedReason).toMatch(/memory/);

    const dump = await pvc(['vm', 'dump', 'huge']);
    expect(dump.code).toBe(1);
    expect(dump.stderr).toContain('pvc: vm huge has no node yet: not enough free memory');

    const wait = await pvc(['vm', 'start', 'huge', '--wait-ms', '1000']);
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain('pvc: vm huge did not start within 1000 ms: vm huge has no node yet (not enough free memory');
    // Never run: it may go without being stopped.
    expect((await pvc(['vm', 'remove', 'huge', '--yes'])).code).toBe(0);
  });

  it('refuses bad input with exit 1, naming the value', async () => {
    const cases: Array<[string[], string]> = [
      [['vm', 'info', 'nosuch'], `pvc: vm nosuch not found in cluster ${fleet.cluster}`],
      [['vm', 'stop', 'nosuch'], 'pvc: vm nosuch not found'],
      [['vm', 'log', 'nosuch'], 'pvc: vm nosuch not found'],
      [['vm', 'list', '--state', 'bogus'], 'pvc: invalid state filter "bogus"'],
      [['vm', 'define', definitionFile('neg', guest('neg', { memoryMiB: 1 }))], 'pvc: invalid vm definition "neg": memoryMiB'],
      [['vm', 'define', definitionFile('app1', guest('app1'))], `pvc: vm app1 already exists in cluster ${fleet.cluster}`],
      [['vm', 'define', definitionFile('ghost1', guest('ghost1')), '--node', 'ghost'], `pvc: unknown node "ghost": not a node of cluster ${fleet.cluster}`],
      [['vm', 'modify', 'app1', definitionFile('renamed', guest('other'))], 'pvc: the definition names vm "other", not "app1"'],
    ];
    for (const [args, message] of cases) {
      const result = await pvc(args);
      expect({ args, code: result.code }).toEqual({ args, code: 1 });
      expect(result.stderr).toContain(message);
    }
    const broken = path.join(configDir, 'broken.yaml');
    fs.writeFileSync(broken, 'name: [unclosed\n');
    expect((await pvc(['vm', 'define', broken])).stderr).toContain('pvc: invalid vm definition: not yaml or json');
  });

  it('exits 2 when the cluster is unreachable', async () => {
    const result = await pvc(['vm', 'list'], { connection: 'dead' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^pvc: cannot reach zookeeper at 127\.0\.0\.1:\d+ within \d+ ms\n$/);
  });
});
