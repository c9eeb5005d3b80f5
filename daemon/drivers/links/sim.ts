// The simulated links of one node: an in-memory namespace that behaves like the kernel as far
// as pvc relies on it (names and VNIs unique, ports lose their master when the bridge goes, a VLAN
// goes with its parent, the same errors). The contract suite runs against it and the real thing.
import { SimFaults, sleepMs } from '../sim-faults.ts';
import {
  LinkError,
  assertCidr,
  assertLinkName,
  assertMtu,
  type CreateVlan,
  type CreateVxlan,
  type FdbEntry,
  type LinkErrorKind,
  type LinkInfo,
  type LinkOperation,
  type LinksDriver,
} from './port.ts';
import { LINK_COMMAND_TIMEOUT_MS } from './iproute.ts';

export interface SimLinksOptions {
  /** Devices that exist from the start (the underlay NIC): kind 'device', up, MTU 1500. */
  devices?: readonly string[];
  /** A kernel without 8021q (like this test machine's) refuses VLAN interfaces. */
  vlanSupported?: boolean;
  timeoutMs?: number;
}

export class SimLinks implements LinksDriver {
  readonly faults = new SimFaults<LinkErrorKind>('failed');
  private readonly links = new Map<string, LinkInfo>();
  private readonly fdb = new Map<string, FdbEntry[]>();
  private macCounter = 0;
  private readonly vlanSupported: boolean;
  private readonly timeoutMs: number;

  constructor(options: SimLinksOptions = {}) {
    this.vlanSupported = options.vlanSupported ?? true;
    this.timeoutMs = options.timeoutMs ?? LINK_COMMAND_TIMEOUT_MS;
    for (const name of options.devices ?? []) this.add(name, 'device', 1500, { up: true });
  }

  /** Test hook: what EVPN would have put in a port's FDB. */
  setFdb(device: string, entries: FdbEntry[]): void {
    this.fdb.set(device, entries.map((e) => ({ ...e, flags: [...e.flags] })));
  }

  async listLinks(): Promise<LinkInfo[]> {
    await this.enter('list', null);
    return [...this.links.values()].map(copy);
  }

  async createBridge(name: string, mtu: number): Promise<void> {
    assertLinkName('create', name);
    assertMtu('create', name, mtu);
    await this.enter('create', name);
    this.mustBeFree(name);
    this.add(name, 'bridge', mtu);
  }

  async createVxlan(spec: CreateVxlan): Promise<void> {
    assertLinkName('create', spec.name);
    assertMtu('create', spec.name, spec.mtu);
    await this.enter('create', spec.name);
    this.mustBeFree(spec.name);
    for (const link of this.links.values()) {
      if (link.vxlan && link.vxlan.vni === spec.vni && link.vxlan.dstPort === spec.dstPort) {
        throw new LinkError('exists', 'create', spec.name, 'Error: A VXLAN device with the specified VNI already exists.');
      }
    }
    this.add(spec.name, 'vxlan', spec.mtu).vxlan = { vni: spec.vni, local: spec.local, dstPort: spec.dstPort, learning: false };
  }

  async createVlan(spec: CreateVlan): Promise<void> {
    assertLinkName('create', spec.name);
    assertLinkName('create', spec.parent);
    assertMtu('create', spec.name, spec.mtu);
    await this.enter('create', spec.name);
    if (!this.vlanSupported) throw new LinkError('unsupported', 'create', spec.name, 'Error: Unknown device type.');
    this.mustBeFree(spec.name);
    if (!this.links.has(spec.parent)) throw new LinkError('not-found', 'create', spec.name, `Cannot find device "${spec.parent}"`);
    for (const link of this.links.values()) {
      if (link.vlan && link.vlan.parent === spec.parent && link.vlan.id === spec.vlanId) throw new LinkError('exists', 'create', spec.name, 'RTNETLINK answers: File exists');
    }
    this.add(spec.name, 'vlan', spec.mtu).vlan = { id: spec.vlanId, parent: spec.parent };
  }

  async setMaster(name: string, master: string | null): Promise<void> {
    assertLinkName('set', name);
    if (master !== null) assertLinkName('set', master);
    await this.enter('set', name);
    const link = this.mustGet('set', name);
    if (master === null) {
      link.master = null;
      link.bridgePort = null;
      return;
    }
    const bridge = this.links.get(master);
    if (!bridge) throw new LinkError('not-found', 'set', name, `Error: argument "${master}" is wrong: Device does not exist`);
    if (bridge.kind !== 'bridge' || master === name) throw new LinkError('invalid', 'set', name, 'RTNETLINK answers: Operation not supported');
    if (link.master !== master) {
      link.master = master;
      link.bridgePort = { learning: true, neighSuppress: false };
    }
  }

  async setBridgePort(name: string, options: { learning: boolean; neighSuppress: boolean }): Promise<void> {
    assertLinkName('set', name);
    await this.enter('set', name);
    const link = this.mustGet('set', name);
    if (!link.bridgePort) throw new LinkError('invalid', 'set', name, 'RTNETLINK answers: Operation not supported');
    link.bridgePort = { ...options };
  }

  async setMtu(name: string, mtu: number): Promise<void> {
    assertLinkName('set', name);
    assertMtu('set', name, mtu);
    await this.enter('set', name);
    this.mustGet('set', name).mtu = mtu;
  }

  async setUp(name: string, up: boolean): Promise<void> {
    assertLinkName('set', name);
    await this.enter('set', name);
    const link = this.mustGet('set', name);
    link.up = up;
    link.operState = up ? 'UNKNOWN' : 'DOWN';
  }

  async deleteLink(name: string): Promise<void> {
    assertLinkName('delete', name);
    await this.enter('delete', name);
    this.mustGet('delete', name);
    this.links.delete(name);
    this.fdb.delete(name);
    for (const [other, link] of [...this.links]) {
      if (link.master === name) {
        link.master = null;
        link.bridgePort = null;
      }
      if (link.vlan?.parent === name) this.links.delete(other);
    }
  }

  async addAddress(name: string, cidr: string): Promise<void> {
    assertLinkName('address', name);
    assertCidr(name, cidr);
    await this.enter('address', name);
    const link = this.mustGet('address', name);
    if (link.addresses.includes(cidr)) throw new LinkError('exists', 'address', name, 'Error: ipv4: Address already assigned.');
    link.addresses.push(cidr);
  }

  async removeAddress(name: string, cidr: string): Promise<void> {
    assertLinkName('address', name);
    assertCidr(name, cidr);
    await this.enter('address', name);
    const link = this.mustGet('address', name);
    if (!link.addresses.includes(cidr)) throw new LinkError('not-found', 'address', name, 'Error: ipv4: Address not found.');
    link.addresses = link.addresses.filter((a) => a !== cidr);
  }

  async listFdb(device: string): Promise<FdbEntry[]> {
    assertLinkName('fdb', device);
    await this.enter('fdb', device);
    this.mustGet('fdb', device);
    return (this.fdb.get(device) ?? []).map((e) => ({ ...e, flags: [...e.flags] }));
  }

  private add(name: string, kind: LinkInfo['kind'], mtu: number, options: { up?: boolean } = {}): LinkInfo {
    this.macCounter += 1;
    const mac = `02:00:00:00:${((this.macCounter >> 8) & 0xff).toString(16).padStart(2, '0')}:${(this.macCounter & 0xff).toString(16).padStart(2, '0')}`;
    const up = options.up ?? false;
    const link: LinkInfo = { name, kind, master: null, mtu, up, operState: up ? 'UP' : 'DOWN', macAddress: mac, vxlan: null, vlan: null, bridgePort: null, addresses: [] };
    this.links.set(name, link);
    return link;
  }

  private mustBeFree(name: string): void {
    if (this.links.has(name)) throw new LinkError('exists', 'create', name, 'RTNETLINK answers: File exists');
  }

  private mustGet(operation: LinkOperation, name: string): LinkInfo {
    const link = this.links.get(name);
    if (!link) throw new LinkError('not-found', operation, name, `Cannot find device "${name}"`);
    return link;
  }

  private async enter(operation: LinkOperation, link: string | null): Promise<void> {
    if (this.faults.slowMs > 0) await sleepMs(this.faults.slowMs);
    const { hang, failure } = this.faults.take();
    if (hang) {
      await sleepMs(this.timeoutMs);
      throw new LinkError('timeout', operation, link, `ip did not answer in ${this.timeoutMs} ms`);
    }
    if (failure) throw new LinkError(failure.kind, operation, link, failure.detail);
  }
}

function copy(link: LinkInfo): LinkInfo {
  return {
    ...link,
    vxlan: link.vxlan ? { ...link.vxlan } : null,
    vlan: link.vlan ? { ...link.vlan } : null,
    bridgePort: link.bridgePort ? { ...link.bridgePort } : null,
    addresses: [...link.addresses],
  };
}
