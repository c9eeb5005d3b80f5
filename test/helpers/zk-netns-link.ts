// A node that can be cut off from ZooKeeper for real: its pvcd runs in a network namespace that
// this helper creates, joined to the host by a veth pair. The shared ensemble listens on
// loopback, which a namespace cannot reach, so forwarders on the host end's address carry the
// namespace's connections to it. cut() makes the namespace drop every packet on its veth in both
// directions (nftables): silently, as a dead switch port does, so nothing tells pvcd's client
// that its connection is gone. restore() removes the rule; the namespace goes with close().
// The node's hypervisor stays reachable through a unix socket (not the network), as libvirtd is.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { addNetns, deleteNetns, execIn, ipIn, netnsName } from './netns.ts';
import { run } from '../../common/exec.ts';
import { proxyZkHosts, type TcpProxy } from './tcp-proxy.ts';

const IP_TIMEOUT_MS = 15_000;
/** 10.239.0.0/16, cut into /30s by PID so that test files running at once never share one. */
const LINK_PREFIX = '10.239';
const CUT_TABLE = 'pvccut';

export class ZkNetnsLink {
  private constructor(
    readonly netns: string,
    /** The ZooKeeper connection string for the pvcd inside the namespace. */
    readonly hosts: string,
    /** The host end's address: reachable from the namespace and from this host (e.g. for BMCs). */
    readonly hostAddress: string,
    private readonly hostVeth: string,
    private readonly nsVeth: string,
    private readonly cutFile: string,
    private readonly proxies: TcpProxy[],
  ) {}

  /**
   * `tag`: names the namespace (see netnsName); `dir`: for the rule file. One link per process:
   * the veth names and the /30 come from the PID (an interface name holds 15 characters).
   */
  static async start(zkHosts: string, tag: string, dir: string): Promise<ZkNetnsLink> {
    const netns = netnsName(tag);
    const hostVeth = `zl${process.pid}h`;
    const nsVeth = `zl${process.pid}n`;
    const third = (process.pid >> 6) & 255;
    const fourth = (process.pid & 63) * 4;
    const hostAddress = `${LINK_PREFIX}.${third}.${fourth + 1}`;
    const nsAddress = `${LINK_PREFIX}.${third}.${fourth + 2}`;
    await addNetns(netns);
    try {
      await run('ip', ['link', 'del', hostVeth], { timeoutMs: IP_TIMEOUT_MS }).catch(() => undefined);
      await run('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', nsVeth, 'netns', netns], { timeoutMs: IP_TIMEOUT_MS });
      await run('ip', ['address', 'add', `${hostAddress}/30`, 'dev', hostVeth], { timeoutMs: IP_TIMEOUT_MS });
      await run('ip', ['link', 'set', hostVeth, 'up'], { timeoutMs: IP_TIMEOUT_MS });
      await ipIn(netns, ['address', 'add', `${nsAddress}/30`, 'dev', nsVeth]);
      await ipIn(netns, ['link', 'set', nsVeth, 'up']);
      const proxied = await proxyZkHosts(zkHosts, hostAddress);
      const cutFile = path.join(dir, `${netns}-cut.nft`);
      writeFileSync(cutFile, cutRules(nsVeth));
      return new ZkNetnsLink(netns, proxied.hosts, hostAddress, hostVeth, nsVeth, cutFile, proxied.proxies);
    } catch (error) {
      await deleteNetns(netns);
      throw error;
    }
  }

  async cut(): Promise<void> {
    await execIn(this.netns, 'nft', ['-f', this.cutFile]);
  }

  async restore(): Promise<void> {
    await execIn(this.netns, 'nft', ['delete', 'table', 'inet', CUT_TABLE]);
  }

  async close(): Promise<void> {
    for (const proxy of this.proxies) await proxy.close();
    await deleteNetns(this.netns);
    await run('ip', ['link', 'del', this.hostVeth], { timeoutMs: IP_TIMEOUT_MS }).catch(() => undefined);
  }
}

function cutRules(veth: string): string {
  return [
    `table inet ${CUT_TABLE} {`,
    '  chain incoming {',
    '    type filter hook input priority -300; policy accept;',
    `    iifname "${veth}" drop`,
    '  }',
    '  chain outgoing {',
    '    type filter hook output priority -300; policy accept;',
    `    oifname "${veth}" drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}
