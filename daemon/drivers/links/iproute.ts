// The real links adapter: iproute2's `ip` and `bridge`, one process per call, through
// common/exec.ts, reading their JSON output (parse.ts).
//
// Network namespaces: with `netns` set, every call is `ip -n NS ...` / `bridge -n NS ...`
// (iproute2 switches only its own network namespace; pvcd stays where it is). pvcd on a real node
// leaves it unset and manages its own namespace; tests give each "node" namespace its own adapter,
// so one test process can drive several nodes. This is the one way namespaces are chosen for
// links; the FRR and nftables adapters take the same option.
import { ExecError, run } from '../../../common/exec.ts';
import { classifyIpError, parseBridgeFdb, parseIpAddrDetails } from './parse.ts';
import {
  LinkError,
  assertCidr,
  assertLinkName,
  assertMtu,
  type CreateVlan,
  type CreateVxlan,
  type FdbEntry,
  type LinkInfo,
  type LinkOperation,
  type LinksDriver,
} from './port.ts';

/** Every ip/bridge call is a netlink round trip (ms); a stuck one is killed after this. */
export const LINK_COMMAND_TIMEOUT_MS = 10_000;

export interface IprouteLinksOptions {
  /** Run in this named network namespace (`ip -n`); null: the namespace pvcd runs in. */
  netns: string | null;
  timeoutMs?: number;
}

export class IprouteLinks implements LinksDriver {
  private readonly timeoutMs: number;

  constructor(private readonly options: IprouteLinksOptions) {
    this.timeoutMs = options.timeoutMs ?? LINK_COMMAND_TIMEOUT_MS;
  }

  async listLinks(): Promise<LinkInfo[]> {
    const out = await this.tool('ip', 'list', null, ['-json', '-details', 'addr', 'show']);
    try {
      return parseIpAddrDetails(out);
    } catch (error) {
      throw new LinkError('failed', 'list', null, (error as Error).message, { cause: error });
    }
  }

  async createBridge(name: string, mtu: number): Promise<void> {
    assertLinkName('create', name);
    assertMtu('create', name, mtu);
    await this.tool('ip', 'create', name, ['link', 'add', name, 'mtu', String(mtu), 'type', 'bridge', 'stp_state', '0']);
  }

  async createVxlan(spec: CreateVxlan): Promise<void> {
    assertLinkName('create', spec.name);
    assertMtu('create', spec.name, spec.mtu);
    const { name } = spec;
    await this.tool('ip', 'create', name, [
      'link', 'add', name, 'mtu', String(spec.mtu), 'type', 'vxlan',
      'id', String(spec.vni), 'dstport', String(spec.dstPort), 'local', spec.local, 'nolearning',
    ]);
    // A bridge port needs no IPv6 link-local address; `ip link add` refuses addrgenmode, so a second call.
    await this.tool('ip', 'create', name, ['link', 'set', name, 'addrgenmode', 'none']);
  }

  async createVlan(spec: CreateVlan): Promise<void> {
    assertLinkName('create', spec.name);
    assertLinkName('create', spec.parent);
    assertMtu('create', spec.name, spec.mtu);
    await this.tool('ip', 'create', spec.name, ['link', 'add', 'link', spec.parent, 'name', spec.name, 'mtu', String(spec.mtu), 'type', 'vlan', 'id', String(spec.vlanId)]);
  }

  async setMaster(name: string, master: string | null): Promise<void> {
    assertLinkName('set', name);
    if (master !== null) assertLinkName('set', master);
    await this.tool('ip', 'set', name, master === null ? ['link', 'set', name, 'nomaster'] : ['link', 'set', name, 'master', master]);
  }

  async setBridgePort(name: string, options: { learning: boolean; neighSuppress: boolean }): Promise<void> {
    assertLinkName('set', name);
    const onOff = (value: boolean) => (value ? 'on' : 'off');
    await this.tool('ip', 'set', name, ['link', 'set', name, 'type', 'bridge_slave', 'learning', onOff(options.learning), 'neigh_suppress', onOff(options.neighSuppress)]);
  }

  async setMtu(name: string, mtu: number): Promise<void> {
    assertLinkName('set', name);
    assertMtu('set', name, mtu);
    await this.tool('ip', 'set', name, ['link', 'set', name, 'mtu', String(mtu)]);
  }

  async setUp(name: string, up: boolean): Promise<void> {
    assertLinkName('set', name);
    await this.tool('ip', 'set', name, ['link', 'set', name, up ? 'up' : 'down']);
  }

  async deleteLink(name: string): Promise<void> {
    assertLinkName('delete', name);
    await this.tool('ip', 'delete', name, ['link', 'del', name]);
  }

  async addAddress(name: string, cidr: string): Promise<void> {
    assertLinkName('address', name);
    assertCidr(name, cidr);
    await this.tool('ip', 'address', name, ['addr', 'add', cidr, 'dev', name]);
  }

  async removeAddress(name: string, cidr: string): Promise<void> {
    assertLinkName('address', name);
    assertCidr(name, cidr);
    await this.tool('ip', 'address', name, ['addr', 'del', cidr, 'dev', name]);
  }

  async listFdb(device: string): Promise<FdbEntry[]> {
    assertLinkName('fdb', device);
    const out = await this.tool('bridge', 'fdb', device, ['-json', 'fdb', 'show', 'dev', device]);
    try {
      return parseBridgeFdb(out);
    } catch (error) {
      throw new LinkError('failed', 'fdb', device, (error as Error).message, { cause: error });
    }
  }

  private async tool(file: 'ip' | 'bridge', operation: LinkOperation, link: string | null, args: string[]): Promise<string> {
    const full = this.options.netns === null ? args : ['-n', this.options.netns, ...args];
    try {
      return (await run(file, full, { timeoutMs: this.timeoutMs })).stdout;
    } catch (error) {
      if (error instanceof ExecError) {
        const kind = error.timedOut ? 'timeout' : classifyIpError(error.stderr);
        throw new LinkError(kind, operation, link, error.timedOut ? `${file} did not answer in ${this.timeoutMs} ms` : error.stderr.trim() || error.message, { cause: error });
      }
      throw error;
    }
  }
}
