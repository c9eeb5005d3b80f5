// The simulated DHCP adapter: instances and spooled lease events in memory, with the real
// adapter's rules (fenced starts, reload only for changed or removed reservations) and faults:
// the next calls fail or hang, an instance crashes, events arrive as a test says.
import { SimFaults, sleepMs } from '../sim-faults.ts';
import type { DhcpLease } from '../../../common/zk/schema.ts';
import { DhcpError, type DhcpDriver, type DhcpErrorKind, type DhcpInstanceState, type SpooledLeaseEvent } from './port.ts';
import type { DnsmasqPaths } from './render.ts';

export interface SimDhcpInstance {
  configText: string;
  running: boolean;
  reservations: Map<string, string>;
  /** The lease file it was last started with (null: it kept the previous one). */
  seed: DhcpLease[] | null;
  reloads: number;
  starts: number;
}

export class SimDhcp implements DhcpDriver {
  readonly faults = new SimFaults<DhcpErrorKind>('failed');
  readonly instancesByNetwork = new Map<string, SimDhcpInstance>();
  private readonly spool: SpooledLeaseEvent[] = [];
  private readonly listeners = new Set<() => void>();
  private closed = true;
  private sequence = 0;

  /** How long a hung call waits before it fails with 'timeout'. */
  constructor(private readonly hangMs = 200) {}

  pathsOf(network: string): DnsmasqPaths {
    const dir = `/sim/dnsmasq/${network}`;
    return {
      dir,
      configFile: `${dir}/dnsmasq.conf`,
      pidFile: `${dir}/dnsmasq.pid`,
      logFile: `${dir}/dnsmasq.log`,
      leaseFile: `${dir}/leases`,
      hookScript: '/sim/lease-hook.sh',
      hostsDir: `${dir}/hosts`,
      spoolDir: `${dir}/spool`,
    };
  }

  open(): void {
    this.closed = false;
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    for (const instance of this.instancesByNetwork.values()) instance.running = false;
    this.instancesByNetwork.clear();
  }

  async instances(): Promise<DhcpInstanceState[]> {
    return [...this.instancesByNetwork].map(([network, i]) => ({ network, configText: i.configText, running: i.running, reservations: new Map(i.reservations) }));
  }

  async start(network: string, configText: string, reservations: ReadonlyMap<string, string>, seed: readonly DhcpLease[] | null): Promise<void> {
    if (this.closed) throw new DhcpError('closed', network, 'refused to start: this node is not serving as primary');
    // Like the real adapter: the earlier process is stopped first, whether or not the new one starts.
    const previous = this.instancesByNetwork.get(network);
    this.instancesByNetwork.delete(network);
    await this.suffer(network);
    if (this.closed) throw new DhcpError('closed', network, 'refused to start: this node is not serving as primary');
    this.instancesByNetwork.set(network, {
      configText,
      running: true,
      reservations: new Map(reservations),
      seed: seed === null ? null : [...seed],
      reloads: 0,
      starts: (previous?.starts ?? 0) + 1,
    });
    // Like dnsmasq, which runs its script with `old` for every lease it reads at start (the
    // seeded file holds no names).
    for (const lease of seed ?? []) this.emitLeaseEvent(network, `old ${lease.mac} ${lease.ipv4} ${lease.expiresAtS} \n`);
  }

  async stop(network: string): Promise<void> {
    await this.suffer(network);
    this.instancesByNetwork.delete(network);
  }

  async syncReservations(network: string, reservations: ReadonlyMap<string, string>): Promise<'unchanged' | 'added' | 'reloaded'> {
    await this.suffer(network);
    const instance = this.instancesByNetwork.get(network);
    const present = instance?.reservations ?? new Map<string, string>();
    let outcome: 'unchanged' | 'added' | 'reloaded' = 'unchanged';
    for (const [file, content] of reservations) {
      if (present.get(file) === content) continue;
      outcome = present.has(file) ? 'reloaded' : outcome === 'unchanged' ? 'added' : outcome;
    }
    if ([...present.keys()].some((file) => !reservations.has(file))) outcome = 'reloaded';
    if (instance) {
      instance.reservations = new Map(reservations);
      if (outcome === 'reloaded') instance.reloads += 1;
    }
    return outcome;
  }

  async pendingEvents(): Promise<SpooledLeaseEvent[]> {
    return this.spool.map((e) => ({ ...e }));
  }

  async removeEvent(network: string, id: string): Promise<void> {
    const index = this.spool.findIndex((e) => e.network === network && e.id === id);
    if (index >= 0) this.spool.splice(index, 1);
  }

  watchEvents(onEvent: () => void): () => void {
    this.listeners.add(onEvent);
    return () => this.listeners.delete(onEvent);
  }

  // ---- test controls ----------------------------------------------------------------------

  /** dnsmasq's hook reported an event (the line lease-hook.sh writes). */
  emitLeaseEvent(network: string, text: string): void {
    this.sequence += 1;
    this.spool.push({ network, id: String(this.sequence).padStart(19, '0'), text });
    for (const listener of this.listeners) listener();
  }

  /** The instance's process died. */
  crash(network: string): void {
    const instance = this.instancesByNetwork.get(network);
    if (instance) instance.running = false;
  }

  private async suffer(network: string): Promise<void> {
    const { hang, failure } = this.faults.take();
    if (this.faults.slowMs > 0) await sleepMs(this.faults.slowMs);
    if (hang) {
      await sleepMs(this.hangMs);
      throw new DhcpError('timeout', network, `simulated hang of ${this.hangMs} ms`);
    }
    if (failure) throw new DhcpError(failure.kind, network, failure.detail);
  }
}
