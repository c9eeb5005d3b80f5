// A network lab of namespaces for real network tests (issue 6): N "node" namespaces on one
// underlay (each node's eth0 is a veth into a shared underlay namespace holding bridge `ul`), and
// "VM" namespaces (the VM's eth0 is a veth whose other end, vnet<i>, sits in its node's namespace,
// where a test attaches it to a bridge, as libvirt attaches a tap). Each node gets the real
// drivers bound to its namespace (links, FRR, nftables). FRR runs through the FRR driver with the
// real renderer's config (nodes peer over the underlay; coordinators are route reflectors).
//
// Names: `pvc<tag><role><pid>` (e.g. pvcevpnn1<pid>), so files running at once never collide; the
// tag is the test file's own. destroy() stops every daemon and background process the lab
// started (by PID), then deletes every namespace, also after a failed create; safe to call twice.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { spawnBackground, type RunResult } from '../../common/exec.ts';
import type { ClusterNetwork, NetworkSpec, NodeRole } from '../../common/zk/schema.ts';
import { applyLinkActions, type ActionFailure } from '../../daemon/apply/network-links.ts';
import { NftFirewall } from '../../daemon/drivers/firewall/nft.ts';
import { FrrDaemons } from '../../daemon/drivers/frr/daemons.ts';
import type { FrrApplyResult } from '../../daemon/drivers/frr/port.ts';
import { IprouteLinks } from '../../daemon/drivers/links/iproute.ts';
import { buildFrrConfig, type FrrNode } from '../../daemon/reconcile/frr-config.ts';
import { planNetworkLinks, type NodeNetworkFacts } from '../../daemon/reconcile/network-plan.ts';
import { addNetns, deleteNetns, execIn, ipIn, succeedsIn } from './netns.ts';

/** The underlay subnet of every lab: each lab lives in its own namespaces, so they never meet. */
export const LAB_UNDERLAY_PREFIX = '172.30.0';
export const LAB_UNDERLAY_DEVICE = 'eth0';
/** How long one ping waits for its answer. */
const PING_WAIT_S = 1;

export interface LabNodeOptions {
  name: string;
  role: NodeRole;
}

export interface LabOptions {
  /** 1-6 lowercase letters/digits, unique to the test file. */
  tag: string;
  nodes: readonly LabNodeOptions[];
  /** The lab's state folder (FRR folders, logs), e.g. under inject('testRunDir'). */
  dir: string;
}

export interface LabNode {
  name: string;
  role: NodeRole;
  netns: string;
  /** `172.30.0.<n>`: VTEP, BGP router id and peering address. */
  underlayAddress: string;
  underlayDevice: string;
  /** What a pvcd on this node would have in its `network` config. */
  facts: NodeNetworkFacts;
  frrDir: string;
  links: IprouteLinks;
  frr: FrrDaemons;
  firewall: NftFirewall;
}

export interface LabVm {
  name: string;
  netns: string;
  node: LabNode;
  mac: string;
  /** The VM's end, inside its namespace. */
  device: string;
  /** The node's end, in the node's namespace (attach it to a bridge). */
  tap: string;
}

export class NetnsLab {
  readonly nodes: LabNode[] = [];
  readonly vms: LabVm[] = [];
  private readonly namespaces: string[] = [];
  private readonly pids = new Set<number>();
  /** The namespace of the underlay bridge `ul` (a test may put a server of the site there). */
  readonly underlay: string;
  private destroyed = false;

  private constructor(private readonly options: LabOptions) {
    if (!/^[a-z][a-z0-9]{0,5}$/.test(options.tag)) throw new Error(`lab tag ${JSON.stringify(options.tag)}: use 1-6 lowercase letters and digits`);
    this.underlay = this.nsName('u');
  }

  /** Builds the namespaces and the underlay; on any failure removes what it made and throws. */
  static async create(options: LabOptions): Promise<NetnsLab> {
    const lab = new NetnsLab(options);
    try {
      await lab.build();
      return lab;
    } catch (error) {
      await lab.destroy();
      throw error;
    }
  }

  node(name: string): LabNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`lab has no node ${name}`);
    return node;
  }

  private nsName(role: string): string {
    return `pvc${this.options.tag}${role}${process.pid}`;
  }

  private async newNetns(name: string): Promise<void> {
    this.namespaces.push(name);
    await addNetns(name);
  }

  private async build(): Promise<void> {
    mkdirSync(this.options.dir, { recursive: true });
    await this.newNetns(this.underlay);
    await ipIn(this.underlay, ['link', 'add', 'ul', 'type', 'bridge', 'stp_state', '0']);
    await ipIn(this.underlay, ['link', 'set', 'ul', 'up']);
    for (const [i, spec] of this.options.nodes.entries()) {
      const netns = this.nsName(`n${i + 1}`);
      await this.newNetns(netns);
      const port = `ul${i + 1}`;
      await ipIn(this.underlay, ['link', 'add', port, 'type', 'veth', 'peer', 'name', LAB_UNDERLAY_DEVICE, 'netns', netns]);
      await ipIn(this.underlay, ['link', 'set', port, 'master', 'ul', 'up']);
      const address = `${LAB_UNDERLAY_PREFIX}.${i + 1}`;
      await ipIn(netns, ['addr', 'add', `${address}/24`, 'dev', LAB_UNDERLAY_DEVICE]);
      await ipIn(netns, ['link', 'set', LAB_UNDERLAY_DEVICE, 'up']);
      const frrDir = path.join(this.options.dir, `frr-${spec.name}`);
      this.nodes.push({
        name: spec.name,
        role: spec.role,
        netns,
        underlayAddress: address,
        underlayDevice: LAB_UNDERLAY_DEVICE,
        facts: { vtepAddress: address, underlayDevice: LAB_UNDERLAY_DEVICE, bridgedDevice: LAB_UNDERLAY_DEVICE },
        frrDir,
        links: new IprouteLinks({ netns }),
        frr: new FrrDaemons({ stateDir: frrDir, netns }),
        firewall: new NftFirewall({ netns }),
      });
    }
  }

  /** A VM on `node`: its own namespace with eth0 (MAC `mac`), the other end `vnet<i>` in the node, up. */
  async addVm(node: LabNode, name: string, mac: string): Promise<LabVm> {
    const index = this.vms.length;
    const netns = this.nsName(`v${index + 1}`);
    await this.newNetns(netns);
    const tap = `vnet${index}`;
    await ipIn(node.netns, ['link', 'add', tap, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await ipIn(netns, ['link', 'set', 'eth0', 'address', mac]);
    await ipIn(netns, ['link', 'set', 'eth0', 'up']);
    await ipIn(node.netns, ['link', 'set', tap, 'up']);
    const vm: LabVm = { name, netns, node, mac, device: 'eth0', tap };
    this.vms.push(vm);
    return vm;
  }

  /** Plugs the VM's tap into a bridge of its node (what libvirt does for a NIC on a network). */
  async attachVm(vm: LabVm, bridge: string): Promise<void> {
    await ipIn(vm.node.netns, ['link', 'set', vm.tap, 'master', bridge]);
  }

  /** Sets a static address (and optionally a default route) in the VM. */
  async configureVm(vm: LabVm, cidr: string, gateway: string | null = null): Promise<void> {
    await ipIn(vm.netns, ['addr', 'add', cidr, 'dev', vm.device]);
    if (gateway !== null) await ipIn(vm.netns, ['route', 'add', 'default', 'via', gateway]);
  }

  /** The FRR config of every node for the cluster settings, applied through the FRR driver. */
  async startFrr(cluster: Pick<ClusterNetwork, 'asn' | 'upstreamPeers'>, networks: readonly NetworkSpec[] = []): Promise<FrrApplyResult[]> {
    const all: FrrNode[] = this.nodes.map((n) => ({ name: n.name, role: n.role, vtepAddress: n.underlayAddress }));
    return Promise.all(
      this.nodes.map((node) =>
        node.frr.apply(buildFrrConfig({ self: all.find((n) => n.name === node.name) as FrrNode, nodes: all, cluster, networks, logDir: node.frrDir })),
      ),
    );
  }

  /** Makes every node's interfaces match the network specs (the planner and executor pvcd uses). */
  async applyNetworks(specs: readonly NetworkSpec[]): Promise<ActionFailure[]> {
    const failures: ActionFailure[] = [];
    for (const node of this.nodes) {
      const plan = planNetworkLinks(specs, node.facts, await node.links.listLinks());
      failures.push(...(await applyLinkActions(node.links, plan.actions)));
    }
    return failures;
  }

  /** Runs a program in a namespace of the lab. */
  exec(netns: string, file: string, args: readonly string[], timeoutMs?: number): Promise<RunResult> {
    return execIn(netns, file, args, timeoutMs);
  }

  /** True when one ping from the VM to `address` is answered. */
  ping(vm: LabVm, address: string): Promise<boolean> {
    return succeedsIn(vm.netns, 'ping', ['-c', '1', '-W', String(PING_WAIT_S), address]);
  }

  /** Starts a long-running program in a namespace; destroy() kills it. Returns its PID. */
  spawn(netns: string, file: string, args: readonly string[], logFile: string): number {
    const pid = spawnBackground('ip', ['netns', 'exec', netns, file, ...args], { logFile, detached: false });
    this.pids.add(pid);
    return pid;
  }

  /** Kills a program started with spawn() now (SIGKILL: a crash, as tests of failover need). */
  kill(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
    if (signal === 'SIGKILL') this.pids.delete(pid);
  }

  /** Cuts a node off the underlay (its port on the underlay bridge down), or joins it again. */
  async setNodeLinked(node: LabNode, linked: boolean): Promise<void> {
    const port = `ul${this.nodes.indexOf(node) + 1}`;
    await ipIn(this.underlay, ['link', 'set', port, linked ? 'up' : 'down']);
  }

  /** Stops FRR on every node and every spawned program, then deletes the namespaces. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const problems: string[] = [];
    for (const node of this.nodes) await node.frr.stop().catch((e: unknown) => problems.push(`stop frr of ${node.name}: ${String(e)}`));
    for (const pid of this.pids) this.kill(pid);
    for (const ns of [...this.namespaces].reverse()) await deleteNetns(ns).catch((e: unknown) => problems.push(`delete netns ${ns}: ${String(e)}`));
    if (problems.length > 0) throw new Error(`lab teardown: ${problems.join('; ')}`);
  }
}
