// Simulated FRR: nodes of one SimFrrWorld peer when both run bgpd and each activates the other in
// its l2vpn evpn section; a node's VNIs are the VXLAN interfaces of its (simulated) links, and a
// VNI's remote VTEPs are the other nodes with that VNI reachable over established sessions (route
// reflectors pass routes on). Reload keeps sessions; a restart or a changed AS drops them.
// Upstream (ipv4 unicast) sessions come up when each side activates the other there with the
// other's AS as remote-as; a node sends the IPv4 subnets of the addresses on its up links that its
// policy lets through (sim-bgp.ts). Unlike the kernel, an up bridge without ports counts: the
// simulated links have no carrier.
import { parseAnyCidr } from '../../../common/net/ip.ts';
import type { LinksDriver } from '../links/port.ts';
import { SimFaults, sleepMs } from '../sim-faults.ts';
import { FrrError, assertPeerAddress, type BgpPeer, type EvpnVni, type FrrApplyResult, type FrrConfig, type FrrDriver, type FrrErrorKind, type FrrOperation } from './port.ts';
import { VTYSH_TIMEOUT_MS } from './daemons.ts';
import { acceptedPrefixes, activatedNeighbors, descriptionOf, exportedPrefixes, remoteAsOf } from './sim-bgp.ts';

/** The lines pvc's bgpd template writes; anything else is refused, as bgpd refuses unknown commands. */
const KNOWN_LINE = new RegExp(
  '^(!.*|frr defaults \\S+|hostname \\S+|log file \\S+|router bgp \\d+|exit|exit-address-family|no bgp default ipv4-unicast|bgp router-id \\S+|' +
    'neighbor \\S+ (remote-as \\d+|description .+|update-source \\S+|timers connect \\d+|activate|route-reflector-client|route-map \\S+ (in|out))|' +
    'address-family (l2vpn evpn|ipv4 unicast|ipv6 unicast)|advertise-all-vni|redistribute connected route-map \\S+|' +
    '(ip|ipv6) prefix-list \\S+ seq \\d+ (permit|deny) \\S+|route-map \\S+ permit \\d+|match (ip|ipv6) address prefix-list \\S+)$',
);

export class SimFrrWorld {
  readonly nodes = new Set<SimFrr>();

  /** Established sessions form a graph; routes travel along it (reflectors pass them on). */
  reachableFrom(start: SimFrr): Set<SimFrr> {
    const seen = new Set<SimFrr>([start]);
    const queue = [start];
    for (let node = queue.shift(); node; node = queue.shift()) {
      for (const other of this.nodes) {
        if (!seen.has(other) && this.established(node, other)) {
          seen.add(other);
          queue.push(other);
        }
      }
    }
    seen.delete(start);
    return seen;
  }

  established(a: SimFrr, b: SimFrr): boolean {
    const ca = a.activeConfig;
    const cb = b.activeConfig;
    return ca !== null && cb !== null && ca.asn === cb.asn && a.evpnNeighbors().includes(cb.routerId) && b.evpnNeighbors().includes(ca.routerId);
  }

  /** An ipv4 unicast session (eBGP to an upstream router, in pvc's template). */
  unicastEstablished(a: SimFrr, b: SimFrr): boolean {
    const ca = a.activeConfig;
    const cb = b.activeConfig;
    const expects = (self: FrrConfig, other: FrrConfig) => activatedNeighbors(self.bgpd, 'ipv4 unicast').includes(other.routerId) && remoteAsOf(self.bgpd, other.routerId) === other.asn;
    return ca !== null && cb !== null && expects(ca, cb) && expects(cb, ca);
  }

  nodeAt(address: string, except: SimFrr): SimFrr | null {
    return [...this.nodes].find((n) => n !== except && n.activeConfig?.routerId === address) ?? null;
  }
}

export class SimFrr implements FrrDriver {
  readonly faults = new SimFaults<FrrErrorKind>('failed');
  private zebra = false;
  private bgpd = false;
  private config: FrrConfig | null = null;
  /** Counts bgpd starts: a session is new when either side's epoch changed. */
  epoch = 0;
  private readonly sessions = new Map<string, { key: string; count: number }>();

  constructor(
    private readonly world: SimFrrWorld,
    private readonly links: LinksDriver,
  ) {
    world.nodes.add(this);
  }

  get activeConfig(): FrrConfig | null {
    return this.zebra && this.bgpd ? this.config : null;
  }

  evpnNeighbors(): string[] {
    return activatedNeighbors(this.config?.bgpd ?? '', 'l2vpn evpn');
  }

  /** The IPv4 prefixes this node sends `peer`: its connected subnets through its policy. */
  async exportedTo(peer: string): Promise<string[]> {
    const connected = (await this.links.listLinks())
      .filter((link) => link.up)
      .flatMap((link) => link.addresses.map((address) => parseAnyCidr(address)))
      .filter((cidr) => cidr?.family === 4)
      .map((cidr) => cidr?.networkForm as string);
    return exportedPrefixes(this.config?.bgpd ?? '', peer, connected);
  }

  async running(): Promise<{ zebra: boolean; bgpd: boolean }> {
    await this.enter('query');
    return { zebra: this.zebra, bgpd: this.bgpd };
  }

  async apply(config: FrrConfig): Promise<FrrApplyResult> {
    await this.enter('apply');
    const bad = config.bgpd.split('\n').map((l) => l.trim()).find((l) => l !== '' && !KNOWN_LINE.test(l));
    const wasRunning = this.zebra && this.bgpd;
    this.zebra = true;
    if (!this.bgpd || this.config === null) {
      this.startBgpd(config);
      return 'started';
    }
    if (bad !== undefined) throw new FrrError('invalid-config', 'reload', `% Unknown command: ${bad}`);
    if (this.config.bgpd === config.bgpd) return wasRunning ? 'unchanged' : 'started';
    if (this.config.asn !== config.asn || this.config.routerId !== config.routerId) {
      this.startBgpd(config);
      return 'restarted';
    }
    this.config = config;
    return 'reloaded';
  }

  async evpnPeers(): Promise<BgpPeer[]> {
    await this.enter('query');
    this.mustRun('bgpd');
    const config = this.config as FrrConfig;
    return this.evpnNeighbors()
      .sort()
      .map((address) => {
        const peer = this.world.nodeAt(address, this);
        const up = peer !== null && this.world.established(this, peer);
        return {
          address,
          state: up ? 'Established' : 'Active',
          remoteAs: config.asn,
          prefixesReceived: 0,
          establishedCount: this.sessionCount(address, up ? `${this.epoch}/${peer?.epoch}` : null),
          description: null,
        };
      });
  }

  async unicastPeers(): Promise<BgpPeer[]> {
    await this.enter('query');
    this.mustRun('bgpd');
    const config = this.config as FrrConfig;
    return Promise.all(
      activatedNeighbors(config.bgpd, 'ipv4 unicast')
        .sort()
        .map(async (address) => {
          const peer = this.world.nodeAt(address, this);
          const up = peer !== null && this.world.unicastEstablished(this, peer);
          return {
            address,
            state: up ? 'Established' : 'Active',
            remoteAs: remoteAsOf(config.bgpd, address) ?? 0,
            prefixesReceived: up ? acceptedPrefixes(config.bgpd, address, await peer.exportedTo(config.routerId)).length : 0,
            establishedCount: this.sessionCount(`ipv4 ${address}`, up ? `${this.epoch}/${peer.epoch}` : null),
            description: descriptionOf(config.bgpd, address),
          };
        }),
    );
  }

  async advertisedRoutes(peer: string): Promise<string[]> {
    assertPeerAddress(peer);
    await this.enter('query');
    this.mustRun('bgpd');
    const config = this.config as FrrConfig;
    if (remoteAsOf(config.bgpd, peer) === null) throw new FrrError('failed', 'query', 'vtysh show advertised-routes: No such neighbor in this view/vrf');
    const node = this.world.nodeAt(peer, this);
    return node !== null && this.world.unicastEstablished(this, node) ? this.exportedTo(peer) : [];
  }

  async evpnVnis(): Promise<EvpnVni[]> {
    await this.enter('query');
    this.mustRun('zebra');
    if (!this.bgpd || !this.config?.bgpd.includes('advertise-all-vni')) return [];
    const mine = await vxlansOf(this.links);
    const remote = await Promise.all([...this.world.reachableFrom(this)].map((n) => vxlansOf(n.links)));
    return [...mine]
      .map(([vni, vxlanInterface]) => ({ vni, vxlanInterface, macs: 0, remoteVteps: remote.filter((r) => r.has(vni)).length }))
      .sort((a, b) => a.vni - b.vni);
  }

  async stop(): Promise<void> {
    await this.enter('stop');
    this.zebra = false;
    this.bgpd = false;
  }

  private startBgpd(config: FrrConfig): void {
    this.config = config;
    this.bgpd = true;
    this.epoch += 1;
  }

  private sessionCount(address: string, key: string | null): number {
    const session = this.sessions.get(address) ?? { key: '', count: 0 };
    if (key !== null && key !== session.key) this.sessions.set(address, { key, count: session.count + 1 });
    return this.sessions.get(address)?.count ?? 0;
  }

  private mustRun(daemon: 'zebra' | 'bgpd'): void {
    if (!(daemon === 'zebra' ? this.zebra : this.bgpd)) throw new FrrError('not-running', 'query', 'no frr daemon answers (simulation)');
  }

  private async enter(operation: FrrOperation): Promise<void> {
    if (this.faults.slowMs > 0) await sleepMs(this.faults.slowMs);
    const { hang, failure } = this.faults.take();
    if (hang) {
      await sleepMs(VTYSH_TIMEOUT_MS);
      throw new FrrError('timeout', operation, `vtysh did not answer in ${VTYSH_TIMEOUT_MS} ms`);
    }
    if (failure) throw new FrrError(failure.kind, operation, failure.detail);
  }
}

async function vxlansOf(links: LinksDriver): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const link of await links.listLinks()) if (link.vxlan) out.set(link.vxlan.vni, link.name);
  return out;
}
