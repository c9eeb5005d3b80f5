// The simulated DNS adapter: zones in memory, with the real adapter's rules (fenced starts, a
// zone created twice is refused, deleting a missing zone is fine) and faults: the next calls fail
// or hang, the server dies.
import { SimFaults, sleepMs } from '../sim-faults.ts';
import { DnsError, type DnsDriver, type DnsErrorKind, type RecordSet, type Zone } from './port.ts';

const SOA_TTL_S = 3600;

export class SimDns implements DnsDriver {
  readonly faults = new SimFaults<DnsErrorKind>('api');
  readonly zones = new Map<string, Map<string, RecordSet>>();
  running = false;
  starts = 0;
  private closed = true;

  constructor(private readonly hangMs = 200) {}

  open(): void {
    this.closed = false;
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    this.running = false;
  }

  async ensureRunning(): Promise<'started' | 'running'> {
    if (this.running) return 'running';
    if (this.closed) throw new DnsError('closed', 'refused to start: this node is not serving as primary');
    await this.suffer();
    if (this.closed) throw new DnsError('closed', 'stopped while starting: this node is no longer serving as primary');
    this.running = true;
    this.starts += 1;
    return 'started';
  }

  async listZones(): Promise<Zone[]> {
    await this.serving('list zones');
    return [...this.zones].map(([name, sets]) => ({ name, rrsets: [...sets.values()].map((s) => ({ ...s, records: [...s.records] })) }));
  }

  async createZone(zone: Zone): Promise<void> {
    await this.serving(`create zone ${zone.name}`);
    if (this.zones.has(zone.name)) throw new DnsError('api', `create zone ${zone.name}: http 409: Conflict`);
    // Like PowerDNS, a new zone gets an SOA pvc did not ask for.
    const sets = new Map<string, RecordSet>([[`${zone.name} SOA`, { name: zone.name, type: 'SOA', ttlS: SOA_TTL_S, records: [`ns1.${zone.name} hostmaster.${zone.name} 1 10800 3600 604800 3600`] }]]);
    for (const set of zone.rrsets) sets.set(`${set.name} ${set.type}`, { ...set, records: [...set.records].sort() });
    this.zones.set(zone.name, sets);
  }

  async patchZone(name: string, replace: readonly RecordSet[], remove: ReadonlyArray<{ name: string; type: string }>): Promise<void> {
    await this.serving(`change zone ${name}`);
    const sets = this.zones.get(name);
    if (!sets) throw new DnsError('api', `change zone ${name}: http 404: Not Found`);
    for (const set of remove) sets.delete(`${set.name} ${set.type}`);
    for (const set of replace) sets.set(`${set.name} ${set.type}`, { ...set, records: [...set.records].sort() });
  }

  async deleteZone(name: string): Promise<void> {
    await this.serving(`delete zone ${name}`);
    this.zones.delete(name);
  }

  // ---- test controls ----------------------------------------------------------------------

  /** The server died; the next ensureRunning() starts it again. */
  crash(): void {
    this.running = false;
  }

  /** What a query would answer: the records of one name and type, or null. */
  lookup(name: string, type: string): string[] | null {
    for (const sets of this.zones.values()) {
      const found = sets.get(`${name} ${type}`);
      if (found) return [...found.records];
    }
    return null;
  }

  private async serving(what: string): Promise<void> {
    if (!this.running) throw new DnsError('api', `${what}: pdns_server is not running`);
    await this.suffer();
  }

  private async suffer(): Promise<void> {
    const { hang, failure } = this.faults.take();
    if (this.faults.slowMs > 0) await sleepMs(this.faults.slowMs);
    if (hang) {
      await sleepMs(this.hangMs);
      throw new DnsError('timeout', `simulated hang of ${this.hangMs} ms`);
    }
    if (failure) throw new DnsError(failure.kind, failure.detail);
  }
}
