// A pvc cluster for high-availability tests: real pvcd processes (test/helpers/pvcd-fleet.ts)
// with placement and fencing, one shared simulated hypervisor world, and one real BMC per node
// (ipmi_sim, scripts/lib/ipmi-bmc.ts). A BMC power off acts out a real one before ipmitool sees
// it: the node's pvcd is SIGKILLed and its domains vanish from the sim world. A power on starts
// the node's pvcd again (the node boots). Invariants are checked every 50 ms: no VM runs on two
// nodes at once; the primary journals never overlap (checked on demand).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { readAllVmFacts } from '../../common/client/vm-read.ts';
import { returnFencedNode } from '../../common/client/ha.ts';
import { waitFenceConfirmed } from './ha-power.ts';
import { setNodeDomainState } from '../../common/client/node-domain.ts';
import type { Fence, FenceOutcome, VmSpec, VmState } from '../../common/zk/schema.ts';
import { linkSocketDir } from '../../common/unix-socket-dir.ts';
import { IpmitoolDriver } from '../../daemon/drivers/ipmi/ipmitool.ts';
import { isPvcdProcess } from '../../scripts/lib/pvcd-process.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import type { PowerState } from '../../daemon/drivers/ipmi/port.ts';
import { BmcFleet } from '../../scripts/lib/ipmi-bmc.ts';
import { PvcdFleet } from './pvcd-fleet.ts';
import { startSimWorldServer, type SimWorldServer } from './sim-world-server.ts';
import { TEST_GUEST_SPEC } from './vm-fixtures.ts';
import { waitFor } from './wait.ts';

export const HA_BMC_PASSWORD = 'ha-bmc-secret-7f3a';
const INVARIANT_CHECK_MS = 50;
const SIM_SOCKET = 'sim-world.sock';

export interface HaClusterOptions {
  hosts: string;
  store: ZkStore;
  cluster: string;
  baseDir: string;
  nodes: readonly string[];
  sessionTimeoutMs?: number;
  /** The pvcd `ha` section of every node. */
  ha?: Record<string, unknown>;
  /** Nodes started without a `bmc` section (they cannot be powered off). */
  withoutBmc?: readonly string[];
  nodeMemoryMiB?: number;
  /** The pvcd `timeouts` section of every node, instead of the fleet's short test timeouts. */
  timeouts?: Record<string, unknown>;
  /** Further config sections of single nodes (e.g. a `zookeeper` section through a proxy). */
  nodeSections?: Record<string, Record<string, unknown>>;
  /** Where the BMCs listen (default loopback); nodes in namespaces need an address they reach. */
  bmcAddress?: string;
  /** Nodes whose pvcd runs in a network namespace (their hypervisor is the sim on a unix socket). */
  netns?: Record<string, string>;
  /** Every pvcd's own ZooKeeper identity (zookeeper.daemonUser), which alone may read BMC passwords. */
  daemonAuth?: { user: string; password: string };
}

export class HaCluster {
  readonly violations: string[] = [];
  readonly powerEvents: Array<{ node: string; state: PowerState; atMs: number }> = [];
  private readonly vmNames = new Set<string>();
  private watcher: NodeJS.Timeout | null = null;
  /** Nodes whose power-on should not start pvcd (the test boots them itself). */
  readonly holdBoot = new Set<string>();

  private constructor(
    readonly options: HaClusterOptions,
    readonly sim: SimWorldServer,
    readonly bmcs: BmcFleet,
    readonly fleet: PvcdFleet,
  ) {}

  static async start(options: HaClusterOptions): Promise<HaCluster> {
    const memoryMiB = options.nodeMemoryMiB ?? 16_384;
    const fleet = new PvcdFleet(options.hosts, options.cluster, options.store, { baseDir: options.baseDir, sessionTimeoutMs: options.sessionTimeoutMs });
    const simSocket = options.netns ? path.join(linkSocketDir(fleet.dir, SIM_SOCKET), SIM_SOCKET) : undefined;
    const sim = await startSimWorldServer(options.nodes.map((name) => ({ name, cpus: 16, memoryMiB })), { acpiShutdownMs: 100, migrationMs: 50 }, simSocket);
    let cluster: HaCluster | null = null;
    let bmcs: BmcFleet;
    try {
      bmcs = await BmcFleet.start({
        dir: path.join(fleet.dir, 'bmc'),
        nodes: options.nodes,
        password: HA_BMC_PASSWORD,
        ...(options.bmcAddress ? { address: options.bmcAddress } : {}),
        onPower: (node, state) => cluster?.actOutPower(node, state),
      });
    } catch (error) {
      await sim.close();
      throw error;
    }
    cluster = new HaCluster(options, sim, bmcs, fleet);
    const consoleLogDir = path.join(fleet.dir, 'console');
    mkdirSync(consoleLogDir, { recursive: true });
    for (const node of options.nodes) {
      const target = bmcs.target(node);
      const bmc = options.withoutBmc?.includes(node) ? {} : { bmc: { host: target.host, port: target.port, username: target.username, password: target.password } };
      fleet.start(node, 'coordinator', {
        runnables: ['placement', 'fencing'],
        ...(options.daemonAuth ? { daemonAuth: options.daemonAuth } : {}),
        ...(options.netns?.[node] ? { netns: options.netns[node] } : {}),
        hypervisor: { driver: 'sim', uri: options.netns?.[node] ? sim.unixUrl : sim.url, peerUri: `sim://${node}`, consoleLogDir, shutdownTimeoutMs: 2_000 },
        sections: { ...bmc, ha: options.ha ?? {}, ...(options.timeouts ? { timeouts: options.timeouts } : {}), ...options.nodeSections?.[node] },
      });
    }
    cluster.watcher = setInterval(() => cluster?.checkOnce(), INVARIANT_CHECK_MS);
    return cluster;
  }

  get layout() {
    return this.fleet.layout;
  }

  /** What a power change does to the node, before the BMC reports it. */
  private async actOutPower(node: string, state: PowerState): Promise<void> {
    this.powerEvents.push({ node, state, atMs: Date.now() });
    if (state === 'off') {
      this.fleet.signal(node, 'SIGKILL');
      const hv = this.sim.node(node);
      for (const domain of await hv.listDomains()) {
        if (domain.state === 'running' || domain.state === 'paused' || domain.state === 'blocked' || domain.state === 'shutdown') await hv.destroy(domain.name);
      }
      await this.fleet.waitExit(node, 10_000);
    } else if (!this.holdBoot.has(node)) {
      this.fleet.start(node);
    }
  }

  /** The invariant: no VM runs on two nodes at once. */
  private checkOnce(): void {
    for (const name of this.vmNames) {
      const running = this.runningOn(name);
      if (running.length > 1) this.violations.push(`${new Date().toISOString()} ${name} running on ${running.join(' and ')}`);
    }
  }

  runningOn(name: string): string[] {
    return this.options.nodes.filter((n) => {
      const state = this.sim.node(n).stateOf(name);
      return state !== null && state !== 'shutoff' && state !== 'crashed';
    });
  }

  async waitForCluster(): Promise<string> {
    const { store } = this.options;
    const primary = await this.fleet.waitForPrimary();
    await this.fleet.waitUntilServing(primary);
    await waitFor('every node running with its hypervisor', async () => {
      const statuses = await Promise.all(this.options.nodes.map((n) => store.get(this.layout.nodeStatus(n))));
      return statuses.every((s) => s?.value.daemonState === 'run' && s.value.hypervisor);
    }, 60_000);
    return primary;
  }

  /** Defines VMs (no node: placement chooses) that want to run. */
  async createVms(prefix: string, count: number, spec: Partial<VmSpec> = {}): Promise<string[]> {
    // Names and uuids must be unique per prefix: the prefix's first two bytes go into the uuid.
    const names: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const name = `${prefix}${String(i).padStart(2, '0')}`;
      const hex = (Buffer.from(prefix).readUInt16BE(0) * 1000 + i).toString(16).padStart(12, '0');
      await this.options.store.create(this.layout.vm(name), { ...TEST_GUEST_SPEC, memoryMiB: 64, name, uuid: `a1a1a1a1-0000-4000-8000-${hex}`, node: null, desiredState: 'start', ...spec });
      this.vmNames.add(name);
      names.push(name);
    }
    return names;
  }

  /** Where each VM is: spec node, status, and where the sim runs it. */
  async vmStates(names: readonly string[]): Promise<Map<string, { node: string | null; lastNode: string | null; desired: VmState; state: VmState | null; statusNode: string | null; running: string[] }>> {
    const wanted = new Set(names);
    const facts = (await readAllVmFacts(this.options.store, this.layout)).filter((f) => wanted.has(f.spec.value.name));
    return new Map(facts.map((f) => [f.spec.value.name, { node: f.spec.value.node, lastNode: f.spec.value.lastNode, desired: f.spec.value.desiredState, state: f.status?.state ?? null, statusNode: f.status?.node ?? null, running: this.runningOn(f.spec.value.name) }]));
  }

  /** Every VM runs, reported `start` by the node its spec names, and only there. */
  async waitAllRunning(names: readonly string[], timeoutMs = 60_000, avoid: readonly string[] = []): Promise<void> {
    await waitFor(`${names.length} vm(s) running on their nodes${avoid.length ? ` (not on ${avoid.join(', ')})` : ''}`, async () => {
      const states = await this.vmStates(names);
      return names.every((n) => {
        const s = states.get(n);
        return s && s.node !== null && !avoid.includes(s.node) && s.state === 'start' && s.statusNode === s.node && s.running.length === 1 && s.running[0] === s.node;
      });
    }, timeoutMs);
  }

  async fence(node: string): Promise<Fence | null> {
    return (await this.options.store.get(this.layout.nodeFence(node)))?.value ?? null;
  }

  async waitFence(node: string, outcome: FenceOutcome, timeoutMs = 90_000): Promise<Fence> {
    return waitFor(`node ${node} fence ${outcome}`, async () => {
      const fence = await this.fence(node);
      return fence?.outcome === outcome ? fence : null;
    }, timeoutMs);
  }

  async vmsOn(node: string, names: readonly string[]): Promise<string[]> {
    const states = await this.vmStates(names);
    return names.filter((n) => states.get(n)?.node === node);
  }

  /**
   * Boots a fenced node through its BMC, checks it comes up fenced running none of `names`, and
   * returns it to service (`pvc node ready`: fence record removed, its VMs sent back).
   */
  async bootAndReturn(node: string, names: readonly string[], timeoutMs = 90_000): Promise<void> {
    const { store } = this.options;
    if (this.bmcs.power(node) === 'off') await new IpmitoolDriver().powerOn(this.bmcs.target(node));
    else if (!isPvcdProcess(this.fleet.process(node).pid, this.fleet.process(node).configPath)) this.fleet.start(node);
    await waitFor(`${node} booted, reporting fenced`, async () => (await store.get(this.layout.nodeStatus(node)))?.value.daemonState === 'fenced' && (await store.stat(this.layout.nodeAlive(node))) !== null, timeoutMs);
    const wrong = names.filter((n) => this.runningOn(n).includes(node));
    if (wrong.length > 0) this.violations.push(`${node} booted fenced but runs ${wrong.join(', ')}`);
    await waitFor(`${node} fence finished`, async () => (await this.fence(node))?.outcome !== 'in-progress', timeoutMs);
    await waitFenceConfirmed(store, this.layout, node, timeoutMs);
    await returnFencedNode(store, this.layout, node);
    await setNodeDomainState(store, this.layout, node, 'ready', { waitMs: 0 });
    await waitFor(`${node} back in run`, async () => (await store.get(this.layout.nodeStatus(node)))?.value.daemonState === 'run', timeoutMs);
  }

  /**
   * Thaws the node's BMC (made unreachable before) and waits until it answers a status call: a
   * BMC thawed a moment ago first works off what queued up while it was frozen (a power off,
   * maybe), and the answer proves it has.
   */
  async thawBmc(node: string): Promise<void> {
    this.bmcs.setUnreachable(node, false);
    await this.waitBmcAnswering(node);
  }

  private async waitBmcAnswering(node: string): Promise<void> {
    const ipmi = new IpmitoolDriver();
    await waitFor(`bmc of ${node} answering`, async () => (await ipmi.powerStatus(this.bmcs.target(node))) !== null, 30_000);
  }

  /**
   * The node boots: through its BMC when the power is off, else its pvcd is started again (a
   * node whose pvcd died but whose power stayed on). Waits for the BMC to answer first (see
   * thawBmc).
   */
  async boot(node: string): Promise<void> {
    await this.waitBmcAnswering(node);
    if (this.bmcs.power(node) === 'off') await new IpmitoolDriver().powerOn(this.bmcs.target(node));
    else this.fleet.start(node);
  }

  async stop(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    this.holdBoot.clear();
    await this.fleet.stopAll();
    await this.bmcs.stop();
    await this.sim.close();
  }
}
