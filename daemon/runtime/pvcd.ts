// The pvcd lifecycle: init -> run -> shutdown -> stop. (Peers see `dead` when the alive znode
// is gone without a stop, and `fenced` once a fencer has acted; pvcd itself never writes those.)
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { SKIP, ZkStore } from '../../common/zk/store.ts';
import { ZkLayout, type CoordinatorState, type DaemonState, type NodeHypervisor } from '../../common/zk/schema.ts';
import { createHypervisor, type HypervisorConfig } from '../drivers/hypervisor/factory.ts';
import { VmController } from './vm-controller.ts';
import { createCephDriver } from '../drivers/ceph/factory.ts';
import { NodeCeph } from './node-ceph.ts';
import { findCephClientIp } from './ceph-client-ip.ts';
import type { CephDriver } from '../drivers/ceph/port.ts';
import { PVC_VERSION } from '../../common/version.ts';
import type { PvcdConfig } from '../config.ts';
import { buildRunnables } from '../coordinator/registry.ts';
import { RunnableSet } from '../coordinator/runnables.ts';
import { Election } from './election.ts';
import { readHostStats } from './host-stats.ts';
import { Keepalive } from './keepalive.ts';
import { FenceGuard } from './fence-guard.ts';
import { publishBmc, selfFenceBoundMs } from './ha-node.ts';
import type { HypervisorDriver } from '../drivers/hypervisor/port.ts';
import { START_STEP_ATTEMPTS, retryTransient } from './retry.ts';
import type { NetworkController } from './network-controller.ts';
import { buildNetworkController, networkStatusOf } from './network-node.ts';

export class Pvcd {
  private daemonState: DaemonState = 'init';
  private coordinatorState: CoordinatorState;
  private store: ZkStore | null = null;
  private keepalive: Keepalive | null = null;
  private election: Election | null = null;
  private removeAlive: (() => Promise<void>) | null = null;
  private vms: VmController | null = null;
  private network: NetworkController | null = null;
  private driver: HypervisorDriver | null = null;
  private guard: FenceGuard | null = null;
  private hypervisor: NodeHypervisor | null = null;
  /** Built on first use (undefined until then); see cephDriver(). */
  private ceph: CephDriver | null | undefined = undefined;
  /** This node's Ceph access for VM disks (its facts go into the status once set up). */
  private nodeCeph: NodeCeph | null = null;
  /** The IP this node's Ceph clients use (NodeStatus.cephClientIp); null: not known. */
  private cephClientIp: string | null = null;
  private stopping: Promise<void> | null = null;
  private readonly layout: ZkLayout;

  constructor(
    private readonly config: PvcdConfig,
    private readonly log: Logger,
  ) {
    this.layout = new ZkLayout(config.cluster);
    this.coordinatorState = config.role === 'coordinator' ? 'secondary' : 'client';
  }

  get state(): DaemonState {
    return this.daemonState;
  }

  /** Connects, registers and starts; resolves once the node is in `run`. */
  async start(): Promise<void> {
    const { config, layout, log } = this;
    const { timeouts } = config;
    log.info({ cluster: config.cluster, node: config.node, role: config.role, hosts: config.zookeeper.hosts }, 'pvcd starting');
    const store = await ZkStore.connect({
      hosts: config.zookeeper.hosts,
      auth: { user: config.zookeeper.user, password: config.zookeeper.password },
      ...(config.zookeeper.daemonUser && config.zookeeper.daemonPassword ? { daemonAuth: { user: config.zookeeper.daemonUser, password: config.zookeeper.daemonPassword } } : {}),
      sessionTimeoutMs: timeouts.sessionTimeoutMs,
      connectTimeoutMs: timeouts.connectTimeoutMs,
      requestTimeoutMs: timeouts.requestTimeoutMs,
      onEvent: (event, detail) => log.warn({ ...detail, event }, 'zookeeper session event'),
    });
    this.store = store;
    store.on('state', (state: string) => log.info({ zookeeper: state }, 'zookeeper connection state'));
    log.info({ sessionTimeoutMs: store.sessionTimeoutMs() }, 'connected to zookeeper');

    const foundVersion = await retryTransient('migrate the schema', () => migrateSchema(store, layout), log);
    log.info({ foundVersion }, 'schema ready');

    // The alive node (a child of the node's own) comes before any write that could change a
    // running node: creating it is what refuses a second pvcd with this node's name.
    await retryTransient('register the node', () => store.ensure(layout.node(config.node), { name: config.node, role: config.role }), log);
    this.removeAlive = await retryTransient('create the alive node', () => store.keepEphemeral(layout.nodeAlive(config.node), () => ({ pid: process.pid, sessionId: store.sessionId() })), log);
    await retryTransient('record the role', () => store.update(layout.node(config.node), (current) => (current?.role === config.role ? SKIP : { ...current, name: config.node, role: config.role })), log);
    this.network = buildNetworkController(config, store, layout, log);
    if (config.hypervisor) await this.connectHypervisor(config.hypervisor);
    await retryTransient('publish the bmc', () => publishBmc(store, layout, config, log), log);
    // Found before the first status, so that the other nodes' RBD holder checks see it from the start.
    if (config.ceph) this.cephClientIp = await findCephClientIp(config.ceph, log.child({ component: 'ceph' }));
    if (this.cephClientIp !== null) log.info({ cephClientIp: this.cephClientIp }, 'ceph client ip found');
    const guard = this.buildGuard(store);
    this.keepalive = new Keepalive(store, layout.nodeStatus(config.node), () => this.statusDoc(), timeouts.keepaliveIntervalMs, log, (sentAtMs) => guard.noteContact(sentAtMs));
    await retryTransient('write the first status', () => (this.keepalive as Keepalive).writeNow(), log);
    this.keepalive.start();

    if (config.role === 'coordinator') {
      const runnables = new RunnableSet(buildRunnables(config, { store, layout, resyncIntervalMs: timeouts.resyncIntervalMs, ceph: this.cephDriver() }), timeouts.runnableStopTimeoutMs, log);
      this.election = new Election({
        store,
        layout,
        node: config.node,
        runnables,
        resyncIntervalMs: timeouts.resyncIntervalMs,
        log: log.child({ component: 'election' }),
        onStateChange: (state) => {
          this.coordinatorState = state;
          this.writeStatusSoon();
        },
      });
    }
    // A fenced node (its fence record exists) starts no VM until `pvc node ready`.
    await retryTransient('check for a fence', () => guard.checkNow(), log);
    await this.setDaemonState(guard.fenced ? 'fenced' : 'run', START_STEP_ATTEMPTS);
    guard.start();
    this.election?.start();
    // Bridges first: a VM's NICs attach to them as it starts.
    await this.network?.start();
    if (!guard.fenced) this.vms?.start();
    log.info('pvcd running');
  }

  /** Learns the hypervisor's size (retrying while it starts) and builds the VM controller. */
  private async connectHypervisor(hv: HypervisorConfig): Promise<void> {
    const { config, layout, log } = this;
    const store = this.store as ZkStore;
    const driver = createHypervisor(hv, config.node);
    this.driver = driver;
    const host = await retryTransient('reach the hypervisor', () => driver.hostInfo(), log);
    this.hypervisor = { uri: hv.peerUri ?? hv.uri, migrateUri: hv.migrateUri, cpus: host.cpus, memoryMiB: host.memoryMiB, consoleLogDir: hv.consoleLogDir };
    log.info({ hypervisor: this.hypervisor }, 'hypervisor ready');
    const bridgesOf = (): Readonly<Record<string, string>> => this.network?.bridges ?? {};
    const cephDriver = this.cephDriver();
    const ceph = config.ceph && cephDriver ? new NodeCeph({ config: config.ceph, ceph: cephDriver, hypervisor: driver, store, layout, node: config.node, log: log.child({ component: 'ceph' }) }) : null;
    this.nodeCeph = ceph;
    ceph?.prepare();
    this.vms = new VmController({
      store,
      layout,
      node: config.node,
      driver,
      // The bridges are read at each domain render: networks come and go while pvcd runs.
      facts: { node: config.node, consoleLogDir: hv.consoleLogDir, get rbd() { return ceph?.facts ?? null; }, get bridges() { return bridgesOf(); } },
      rbdGuard: ceph,
      nicGuard: this.network,
      shutdownTimeoutMs: hv.shutdownTimeoutMs,
      resyncIntervalMs: config.timeouts.resyncIntervalMs,
      log: log.child({ component: 'vms' }),
    });
  }

  /** One Ceph driver for the node's VM disks and the primary's storage work; null without a ceph section. */
  private cephDriver(): CephDriver | null {
    if (this.ceph === undefined) this.ceph = this.config.ceph ? createCephDriver(this.config.ceph) : null;
    return this.ceph;
  }

  /** Hands over the primary role if held, marks the node stopped and leaves. Safe to call twice. */
  shutdown(reason: string): Promise<void> {
    this.stopping ??= this.doShutdown(reason);
    return this.stopping;
  }

  private async doShutdown(reason: string): Promise<void> {
    const { log } = this;
    log.info({ reason }, 'pvcd shutting down');
    await this.setDaemonState('shutdown').catch((error) => log.warn({ err: errorMessage(error) }, 'could not record shutdown'));
    this.guard?.stop();
    // VMs keep running: a pvcd restart must never touch them.
    await this.vms?.stop();
    // Interfaces, FRR and the firewall stay: traffic goes on across a pvcd restart.
    await this.network?.stop();
    await this.election?.stop();
    this.keepalive?.stop();
    if (this.config.role === 'coordinator') this.coordinatorState = 'secondary';
    await this.setDaemonState('stop').catch((error) => log.warn({ err: errorMessage(error) }, 'could not record stop'));
    await this.removeAlive?.().catch((error) => log.warn({ err: errorMessage(error) }, 'could not remove the alive node'));
    await this.store?.close();
    log.info('pvcd stopped');
  }

  /** Shutdown tries once (it must not hang on a ZooKeeper that is gone); start-up retries. */
  private async setDaemonState(state: DaemonState, attempts = 1): Promise<void> {
    this.daemonState = state;
    const keepalive = this.keepalive;
    if (keepalive) await retryTransient(`record daemon state ${state}`, () => keepalive.writeNow(), this.log, attempts);
  }

  private buildGuard(store: ZkStore): FenceGuard {
    const { config, layout, log } = this;
    this.guard = new FenceGuard({
      store,
      layout,
      node: config.node,
      selfFenceAfterMs: selfFenceBoundMs(config),
      driver: this.driver,
      knownVms: () => this.vms?.knownNames ?? [],
      setVmsFenced: async (fenced) => {
        if (fenced) await this.vms?.stop();
        else this.vms?.start();
      },
      onStateChange: (fenced) => {
        if (this.daemonState !== 'run' && this.daemonState !== 'fenced') return;
        this.daemonState = fenced ? 'fenced' : 'run';
        this.writeStatusSoon();
      },
      log: log.child({ component: 'fence-guard' }),
    });
    return this.guard;
  }

  private writeStatusSoon(): void {
    this.keepalive?.writeNow().catch((error) => this.log.warn({ err: errorMessage(error) }, 'status write failed'));
  }

  /** The Ceph access the status publishes (a copy: the schema's arrays are not readonly). */
  private rbdStatus() {
    const facts = this.nodeCeph?.facts;
    return facts ? { ...facts, monitors: facts.monitors.map((m) => ({ host: m.host, port: m.port })) } : null;
  }

  private statusDoc() {
    return {
      daemonState: this.daemonState,
      coordinatorState: this.coordinatorState,
      pvcdVersion: PVC_VERSION,
      pid: process.pid,
      host: readHostStats(),
      hypervisor: this.hypervisor ? { ...this.hypervisor, runningVms: this.vms?.runningCount ?? 0, rbd: this.rbdStatus() } : null,
      // The fencer's `recover` waits on this promise of the node, never on its own setting.
      selfFenceBoundMs: selfFenceBoundMs(this.config),
      ...networkStatusOf(this.config),
      ...(this.cephClientIp !== null ? { cephClientIp: this.cephClientIp } : {}),
    };
  }
}
