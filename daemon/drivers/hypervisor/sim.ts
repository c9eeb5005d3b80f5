// The simulated hypervisor: one in-memory world holding several nodes, so that a live migration
// moves a domain from one simulated node to another, exactly once, as libvirt does (source
// undefined, destination persistent and running). Cluster tests run many pvcd processes on
// simulated nodes where this machine could hold only a couple of real libvirtds.
//
// It follows libvirt's rules as the contract suite checks them against real libvirtd: states and
// reasons, errors for unknown domains and wrong states, ACPI shutdown only for guests with <acpi/>.
// Deterministic: UUIDs come from a counter, faults are consumed in call order, and the only clock
// is the configured delays (guest power-off after the ACPI press, migration time). A running
// domain's CPU time is clock-free too: it grows by a fixed step on each stats read.
import { HypervisorError, assertCephSecret } from './port.ts';
import type {
  CephSecret,
  CompletedJob,
  DomainInfo,
  DomainRef,
  DomainState,
  DomainStats,
  DomainStatus,
  DomainSummary,
  DumpXmlOptions,
  HostInfo,
  HypervisorDriver,
  HypervisorErrorKind,
  HypervisorOperation,
  MigrateOptions,
  MigrationTarget,
} from './port.ts';
import { xmlDomainName } from './parse.ts';
import { SimFaults } from '../sim-faults.ts';
import { readDomainXml, withUuid } from './sim-xml.ts';
import { DEFAULT_HYPERVISOR_TIMEOUTS, type HypervisorTimeouts } from './timeouts.ts';

export interface SimWorldOptions {
  /** A reacting guest powers off this long after the ACPI button press (the real test guest: ~2 s). */
  acpiShutdownMs?: number;
  /** Real time a live migration takes, also reported as the job's elapsed time. */
  migrationMs?: number;
  /** Reported switch-over downtime (clipped to the migration's maxDowntimeMs). */
  migrationDowntimeMs?: number;
  /** How long a hung call waits before failing with 'timeout' (same kinds as the real adapter). */
  timeouts?: Partial<HypervisorTimeouts>;
}

export interface SimNodeSpec {
  name: string;
  cpus?: number;
  memoryMiB?: number;
}

interface SimDomain {
  name: string;
  uuid: string;
  xml: string;
  vcpus: number;
  memoryKiB: number;
  acpi: boolean;
  state: DomainState;
  reason: string;
  persistent: boolean;
  lastJob: CompletedJob | null;
  /** CPU time used since the last start (see SIM_CPU_MS_PER_STATS_READ); 0 when stopped. */
  cpuTimeMs: number;
  /** Increases on every start, so a stale power-off timer does not stop a later run. */
  generation: number;
}

const SIM_URI_PREFIX = 'sim://';
const DEFAULT_NODE_CPUS = 8;
const DEFAULT_NODE_MEMORY_MIB = 32_768;
/** QEMU's default downtime limit, used when a migration names none. */
const QEMU_DEFAULT_MAX_DOWNTIME_MS = 300;
const DEFAULT_MIGRATION_DOWNTIME_MS = 12;
/** A running domain's CPU time grows by this much on every domainStats read (deterministic, no clock). */
const SIM_CPU_MS_PER_STATS_READ = 10;

export class SimWorld {
  private readonly nodes = new Map<string, SimHypervisor>();
  private uuidCounter = 0;
  readonly acpiShutdownMs: number;
  readonly migrationMs: number;
  readonly migrationDowntimeMs: number;
  readonly timeouts: HypervisorTimeouts;

  constructor(options: SimWorldOptions = {}) {
    this.acpiShutdownMs = options.acpiShutdownMs ?? 0;
    this.migrationMs = options.migrationMs ?? 0;
    this.migrationDowntimeMs = options.migrationDowntimeMs ?? DEFAULT_MIGRATION_DOWNTIME_MS;
    this.timeouts = { ...DEFAULT_HYPERVISOR_TIMEOUTS, ...options.timeouts };
  }

  addNode(spec: SimNodeSpec): SimHypervisor {
    if (this.nodes.has(spec.name)) throw new Error(`sim world: node ${spec.name} exists already`);
    const node = new SimHypervisor(this, spec.name, spec.cpus ?? DEFAULT_NODE_CPUS, spec.memoryMiB ?? DEFAULT_NODE_MEMORY_MIB);
    this.nodes.set(spec.name, node);
    return node;
  }

  node(name: string): SimHypervisor {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`sim world: no node ${name}`);
    return node;
  }

  /** The URI other nodes use as a migration target. */
  static uriOf(nodeName: string): string {
    return `${SIM_URI_PREFIX}${nodeName}`;
  }

  nodeByUri(uri: string): SimHypervisor | null {
    return uri.startsWith(SIM_URI_PREFIX) ? (this.nodes.get(uri.slice(SIM_URI_PREFIX.length)) ?? null) : null;
  }

  /** Every node where a domain of this name is defined or running (the "runs exactly once" check). */
  whereIs(name: string): string[] {
    return [...this.nodes.values()].filter((n) => n.has(name)).map((n) => n.name);
  }

  nextUuid(): string {
    this.uuidCounter += 1;
    return `5a5a5a5a-0000-4000-8000-${this.uuidCounter.toString(16).padStart(12, '0')}`;
  }
}

export class SimHypervisor implements HypervisorDriver {
  readonly faults = new SimFaults<HypervisorErrorKind>('failed');
  readonly uri: string;
  /** Calls made, in order (operation and domain): for tests that assert what pvcd asked. */
  readonly calls: { operation: HypervisorOperation; domain: string | null }[] = [];
  private readonly domains = new Map<string, SimDomain>();
  private readonly secrets = new Map<string, CephSecret>();

  constructor(
    private readonly world: SimWorld,
    readonly name: string,
    private readonly cpus: number,
    private readonly memoryMiB: number,
  ) {
    this.uri = SimWorld.uriOf(name);
  }

  has(name: string): boolean {
    return this.domains.has(name);
  }

  /** The domain's state without a call (no log entry, no fault): for invariant checks in tests. */
  stateOf(name: string): DomainState | null {
    return this.domains.get(name)?.state ?? null;
  }

  /** The guest powers itself off (as the test guest does without stay=1). */
  guestPowerOff(name: string): void {
    const domain = this.domains.get(name);
    if (domain?.state === 'running') this.stopDomain(domain, 'shutdown');
  }

  async listDomains(): Promise<DomainSummary[]> {
    await this.enter('list', null, this.world.timeouts.queryMs);
    return [...this.domains.values()].map((d) => ({ name: d.name, uuid: d.uuid, state: d.state }));
  }

  async domainState(name: string): Promise<DomainStatus> {
    await this.enter('state', name, this.world.timeouts.queryMs);
    const domain = this.get('state', name);
    return { state: domain.state, reason: domain.reason };
  }

  async domainInfo(name: string): Promise<DomainInfo> {
    await this.enter('info', name, this.world.timeouts.queryMs);
    const d = this.get('info', name);
    return { name: d.name, uuid: d.uuid, state: d.state, vcpus: d.vcpus, maxMemoryKiB: d.memoryKiB, usedMemoryKiB: d.memoryKiB, persistent: d.persistent, autostart: false };
  }

  async define(xml: string): Promise<DomainRef> {
    await this.enter('define', null, this.world.timeouts.defineMs);
    const facts = readDomainXml(xml);
    if ('error' in facts) throw new HypervisorError('invalid-xml', 'define', xmlDomainName(xml), facts.error);
    const existing = this.domains.get(facts.name);
    const sameUuid = [...this.domains.values()].find((d) => facts.uuid !== null && d.uuid === facts.uuid);
    if (existing && facts.uuid !== null && existing.uuid !== facts.uuid) {
      throw new HypervisorError('invalid-state', 'define', facts.name, `operation failed: domain '${facts.name}' already exists with uuid ${existing.uuid}`);
    }
    if (sameUuid && sameUuid.name !== facts.name) {
      throw new HypervisorError('invalid-state', 'define', facts.name, `operation failed: domain '${sameUuid.name}' already exists with uuid ${sameUuid.uuid}`);
    }
    const uuid = existing?.uuid ?? facts.uuid ?? this.world.nextUuid();
    const domain: SimDomain = existing ?? { name: facts.name, uuid, xml, vcpus: 1, memoryKiB: 0, acpi: false, state: 'shutoff', reason: 'unknown', persistent: true, lastJob: null, cpuTimeMs: 0, generation: 0 };
    Object.assign(domain, { xml: withUuid(xml, uuid), vcpus: facts.vcpus, memoryKiB: facts.memoryKiB, acpi: facts.acpi, persistent: true });
    this.domains.set(domain.name, domain);
    return { name: domain.name, uuid };
  }

  async undefine(name: string): Promise<void> {
    await this.enter('undefine', name, this.world.timeouts.defineMs);
    const domain = this.get('undefine', name);
    if (!domain.persistent) throw new HypervisorError('invalid-state', 'undefine', name, 'Requested operation is not valid: cannot undefine transient domain');
    // As libvirt: a running domain becomes transient and disappears when it stops.
    if (domain.state === 'running') domain.persistent = false;
    else this.domains.delete(name);
  }

  async start(name: string): Promise<void> {
    await this.enter('start', name, this.world.timeouts.startMs);
    const domain = this.get('start', name);
    if (domain.state === 'running') throw new HypervisorError('invalid-state', 'start', name, 'Domain is already active');
    domain.generation += 1;
    domain.cpuTimeMs = 0;
    domain.state = 'running';
    domain.reason = 'booted';
  }

  async shutdown(name: string): Promise<void> {
    await this.enter('shutdown', name, this.world.timeouts.shutdownMs);
    const domain = this.get('shutdown', name);
    if (domain.state !== 'running') throw new HypervisorError('invalid-state', 'shutdown', name, 'Requested operation is not valid: domain is not running');
    // Only the button is pressed; a guest without ACPI ignores it and keeps running.
    if (!domain.acpi) return;
    const generation = domain.generation;
    setTimeout(() => {
      const current = this.domains.get(name);
      if (current === domain && domain.generation === generation && domain.state === 'running') this.stopDomain(domain, 'shutdown');
    }, this.world.acpiShutdownMs);
  }

  async destroy(name: string): Promise<void> {
    await this.enter('destroy', name, this.world.timeouts.destroyMs);
    const domain = this.get('destroy', name);
    if (domain.state !== 'running') throw new HypervisorError('invalid-state', 'destroy', name, 'Requested operation is not valid: domain is not running');
    this.stopDomain(domain, 'destroyed');
  }

  async dumpXml(name: string, _options: DumpXmlOptions = {}): Promise<string> {
    await this.enter('dump-xml', name, this.world.timeouts.queryMs);
    return this.get('dump-xml', name).xml;
  }

  async migrateLive(name: string, target: MigrationTarget, options: MigrateOptions): Promise<void> {
    await this.enter('migrate', name, options.timeoutMs);
    const domain = this.get('migrate', name);
    if (domain.state !== 'running') throw new HypervisorError('invalid-state', 'migrate', name, 'Requested operation is not valid: domain is not running');
    const destination = this.world.nodeByUri(target.uri);
    if (destination === null) throw new HypervisorError('unreachable', 'migrate', name, `failed to connect to the hypervisor at ${target.uri}`);
    if (destination === this) throw new HypervisorError('failed', 'migrate', name, 'internal error: Attempt to migrate guest to the same host');
    if (destination.domains.get(name)?.state === 'running') {
      throw new HypervisorError('invalid-state', 'migrate', name, `Requested operation is not valid: domain '${name}' is already active on ${destination.name}`);
    }
    if (this.world.migrationMs > options.timeoutMs) {
      await delay(options.timeoutMs);
      throw new HypervisorError('timeout', 'migrate', name, `virsh migrate did not finish within ${options.timeoutMs} ms`);
    }
    await delay(this.world.migrationMs);
    if (this.domains.get(name) !== domain || domain.state !== 'running') {
      throw new HypervisorError('failed', 'migrate', name, 'operation failed: domain is no longer running');
    }
    // The switch-over: gone from here, running and persistent there, in one step.
    this.domains.delete(name);
    const downtimeMs = Math.min(this.world.migrationDowntimeMs, options.maxDowntimeMs ?? QEMU_DEFAULT_MAX_DOWNTIME_MS);
    const moved: SimDomain = {
      ...domain,
      xml: options.destinationXml ?? domain.xml,
      state: 'running',
      reason: 'migrated',
      persistent: true,
      lastJob: { operation: 'incoming migration', timeElapsedMs: this.world.migrationMs, downtimeMs, dataTotalBytes: domain.memoryKiB * 1024, dataProcessedBytes: domain.memoryKiB * 1024, memoryIterations: 1 },
    };
    destination.domains.set(name, moved);
  }

  async lastJobInfo(name: string): Promise<CompletedJob | null> {
    await this.enter('job-info', name, this.world.timeouts.queryMs);
    return this.get('job-info', name).lastJob;
  }

  async domainStats(name: string): Promise<DomainStats> {
    await this.enter('stats', name, this.world.timeouts.queryMs);
    const domain = this.get('stats', name);
    if (domain.state === 'running') domain.cpuTimeMs += SIM_CPU_MS_PER_STATS_READ;
    // No disks or interfaces are simulated: their byte counts stay 0.
    return { cpuTimeMs: domain.cpuTimeMs, memoryMiB: Math.floor(domain.memoryKiB / 1024), diskReadBytes: 0, diskWriteBytes: 0, netRxBytes: 0, netTxBytes: 0 };
  }

  async hostInfo(): Promise<HostInfo> {
    await this.enter('host-info', null, this.world.timeouts.queryMs);
    return { cpus: this.cpus, memoryMiB: this.memoryMiB, cpuModel: 'x86_64', cpuMhz: 2_000 };
  }

  async setCephSecret(secret: CephSecret): Promise<void> {
    await this.enter('secret', null, this.world.timeouts.defineMs);
    assertCephSecret(secret);
    this.secrets.set(secret.uuid, { ...secret });
  }

  /** The ceph secret pvcd set on this node, for tests. */
  cephSecret(uuid: string): CephSecret | undefined {
    return this.secrets.get(uuid);
  }

  /** Every call starts here: it is logged, then suffers the node's faults. */
  private async enter(operation: HypervisorOperation, domain: string | null, timeoutMs: number): Promise<void> {
    this.calls.push({ operation, domain });
    const { hang, failure } = this.faults.take();
    if (this.faults.slowMs > 0) await delay(this.faults.slowMs);
    if (hang) {
      await delay(timeoutMs);
      throw new HypervisorError('timeout', operation, domain, `${operation} did not finish within ${timeoutMs} ms (injected hang)`);
    }
    if (failure) throw new HypervisorError(failure.kind, operation, domain, failure.detail);
  }

  private get(operation: HypervisorOperation, name: string): SimDomain {
    const domain = this.domains.get(name);
    if (!domain) throw new HypervisorError('not-found', operation, name, `failed to get domain '${name}'`);
    return domain;
  }

  private stopDomain(domain: SimDomain, reason: string): void {
    domain.state = 'shutoff';
    domain.cpuTimeMs = 0;
    domain.reason = reason;
    if (!domain.persistent) this.domains.delete(domain.name);
  }
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
