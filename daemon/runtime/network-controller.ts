// The network controller of one node: keeps its interfaces, FRR and firewall in step with the
// networks in ZooKeeper. Watches (networks, their ACLs, the cluster network settings, the node
// list) only trigger a pass; a pass re-reads everything, plans and applies:
//   1. links: reconcile/network-plan.ts -> apply/network-links.ts (VXLAN/VLAN + bridge per network)
//   2. FRR: reconcile/frr-config.ts -> the FRR driver (start, reload in place, or restart bgpd)
//   3. firewall: reconcile/firewall-rules.ts -> nft, only when the rendering changed
// A failed step does not stop the others; the pass then fails and is retried. A periodic resync
// covers lost watch events. On start-up what already runs is adopted: existing interfaces that
// match are kept, running FRR daemons are reloaded (not restarted) when their config differs.
import type { Logger } from 'pino';
import { readAcls, readAllNetworks, readClusterNetwork } from '../../common/client/network-read.ts';
import { errorMessage } from '../../common/errors.ts';
import { bridgeNameOf, memberInterfaceOf, type ManagedNetwork, type NetworkSpec, type NodeRole, type VmSpec, type ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { applyLinkActions } from '../apply/network-links.ts';
import type { FirewallDriver } from '../drivers/firewall/port.ts';
import type { FrrDriver } from '../drivers/frr/port.ts';
import type { LinksDriver } from '../drivers/links/port.ts';
import { renderFirewall, type FirewallNetwork } from '../reconcile/firewall-rules.ts';
import { buildFrrConfig, type FrrNode } from '../reconcile/frr-config.ts';
import { planNetworkLinks, type NodeNetworkFacts } from '../reconcile/network-plan.ts';
import { Reconciler } from './reconciler.ts';
import { WatchSet, type WatchTarget } from './watch-set.ts';

/** After a failed pass (a tool or ZooKeeper unreachable), the next one comes this much later. */
export const NETWORK_RETRY_DELAY_MS = 1_000;

export interface NetworkControllerOptions {
  store: ZkStore;
  layout: ZkLayout;
  node: string;
  role: NodeRole;
  facts: NodeNetworkFacts;
  links: LinksDriver;
  /** null: this node runs no FRR. */
  frr: { driver: FrrDriver; logDir: string } | null;
  /** null: no firewall on this node. */
  firewall: FirewallDriver | null;
  resyncIntervalMs: number;
  log: Logger;
}

export class NetworkController {
  private readonly reconciler: Reconciler;
  private readonly watches: WatchSet;
  private currentBridges: Readonly<Record<string, string>> = {};
  private lastProblems = '';
  private lastFirewall: string | null = null;
  private passes = 0;
  /** Networks the last plan said this node cannot serve. */
  private problemNetworks = new Set<string>();
  /** Nodes registered without a status yet (their VTEP comes with it). */
  private nodesWithoutStatus: string[] = [];

  constructor(private readonly options: NetworkControllerOptions) {
    this.reconciler = new Reconciler(() => this.pass(), { name: 'network', resyncIntervalMs: options.resyncIntervalMs, retryDelayMs: NETWORK_RETRY_DELAY_MS, log: options.log });
    this.watches = new WatchSet(options.store, () => this.reconciler.trigger());
  }

  /** network name -> bridge, for the networks whose interfaces exist on this node (VM NICs attach there). */
  get bridges(): Readonly<Record<string, string>> {
    return this.currentBridges;
  }

  /**
   * Whether a VM's NICs can be plugged in here now. 'wait' while a network of its NICs exists in
   * ZooKeeper and is not (yet) a problem here but has no bridge: it is being built (a network
   * added just before the VM). Otherwise 'ready': the bridges are there, or the domain render
   * will fail the VM naming the network it cannot have.
   */
  async nicsReady(spec: VmSpec): Promise<'ready' | 'wait'> {
    const { store, layout } = this.options;
    for (const nic of spec.nics) {
      if (this.currentBridges[nic.network] !== undefined || this.problemNetworks.has(nic.network)) continue;
      if ((await store.get(layout.network(nic.network))) !== null) {
        this.reconciler.trigger();
        return 'wait';
      }
    }
    return 'ready';
  }

  /** Passes completed (successful or not): lets tests wait for the controller to have looked. */
  get passCount(): number {
    return this.passes;
  }

  /** Starts reconciling; resolves once the first pass has run (bridges exist before VMs start). */
  async start(): Promise<void> {
    this.reconciler.start();
    await this.reconciler.settle();
  }

  /** Stops reconciling; interfaces, FRR and the firewall stay as they are (traffic goes on). */
  async stop(): Promise<void> {
    await this.reconciler.stop();
    this.watches.clear();
  }

  /** Asks for a pass now and resolves once it (and any it caused) has run. */
  async syncNow(): Promise<void> {
    this.reconciler.trigger();
    await this.reconciler.settle();
  }

  private async pass(): Promise<void> {
    const { store, layout } = this.options;
    const target = { store, layout };
    const specs = (await readAllNetworks(target)).map((v) => v.value);
    const managed = specs.filter((s): s is ManagedNetwork => s.type === 'managed');
    const acls = new Map(await Promise.all(managed.map(async (s) => [s.name, await readAcls(target, s.name)] as const)));
    const failures: string[] = [];
    const step = async (name: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (error) {
        failures.push(`${name}: ${errorMessage(error)}`);
      }
    };
    await step('links', () => this.reconcileLinks(specs));
    if (this.options.frr) await step('frr', () => this.reconcileFrr(specs));
    if (this.options.firewall) await step('firewall', () => this.reconcileFirewall(managed.map((spec) => ({ spec, acls: acls.get(spec.name) ?? [] }))));
    this.watches.sync(this.watchTargets(specs, acls));
    this.passes += 1;
    if (failures.length > 0) throw new Error(failures.join('; '));
  }

  private watchTargets(specs: readonly NetworkSpec[], acls: ReadonlyMap<string, ReadonlyArray<{ name: string }>>): WatchTarget[] {
    const { layout } = this.options;
    const targets: WatchTarget[] = [
      { ref: layout.networksDir(), kind: 'children' },
      { ref: layout.clusterNetwork(), kind: 'data' },
      { ref: layout.nodesDir(), kind: 'children' },
      // A node registers before it writes its first status (which carries its VTEP): wait for that
      // status to appear. Existing statuses are not watched (they change every keepalive).
      ...this.nodesWithoutStatus.map((name): WatchTarget => ({ ref: layout.nodeStatus(name), kind: 'exists' })),
    ];
    for (const spec of specs) {
      targets.push({ ref: layout.network(spec.name), kind: 'data' });
      if (spec.type !== 'managed') continue;
      targets.push({ ref: layout.networkAclsDir(spec.name), kind: 'children' });
      for (const acl of acls.get(spec.name) ?? []) targets.push({ ref: layout.networkAcl(spec.name, acl.name), kind: 'data' });
    }
    return targets;
  }

  private async reconcileLinks(specs: readonly NetworkSpec[]): Promise<void> {
    const { links, facts, log } = this.options;
    const plan = planNetworkLinks(specs, facts, await links.listLinks());
    this.problemNetworks = new Set(plan.problems.map((p) => p.network));
    const problems = JSON.stringify(plan.problems);
    if (problems !== this.lastProblems) {
      for (const p of plan.problems) log.warn({ network: p.network, reason: p.reason }, 'network cannot be served on this node');
      this.lastProblems = problems;
    }
    if (plan.actions.length === 0) {
      this.setBridges(plan.bridges);
      return;
    }
    log.info({ actions: plan.actions.map((a) => `${a.type} ${a.name}`) }, 'reconciling network interfaces');
    const failed = await applyLinkActions(links, plan.actions);
    // Only networks with nothing left to do count as present (a VM must not attach to half a network).
    const after = planNetworkLinks(specs, facts, await links.listLinks());
    const pending = new Set(after.actions.map((a) => a.name));
    const ready = specs.filter((s) => after.bridges[s.name] !== undefined && !pending.has(bridgeNameOf(s)) && !pending.has(memberInterfaceOf(s)));
    this.setBridges(Object.fromEntries(ready.map((s) => [s.name, bridgeNameOf(s)])));
    if (failed.length > 0) throw new Error(failed.map((f) => `${f.action.type} ${f.action.name}: ${f.error}`).join('; '));
  }

  private setBridges(bridges: Record<string, string>): void {
    if (JSON.stringify(bridges) !== JSON.stringify(this.currentBridges)) this.options.log.info({ bridges }, 'network bridges on this node');
    this.currentBridges = bridges;
  }

  private async reconcileFrr(specs: readonly NetworkSpec[]): Promise<void> {
    const { store, layout, node, role, facts, log } = this.options;
    const frr = this.options.frr as NonNullable<NetworkControllerOptions['frr']>;
    if (facts.vtepAddress === null) return;
    const cluster = await readClusterNetwork({ store, layout });
    const names = await store.children(layout.nodesDir());
    const [specsOf, statuses] = await Promise.all([
      Promise.all(names.map((name) => store.get(layout.node(name)))),
      Promise.all(names.map((name) => store.get(layout.nodeStatus(name)))),
    ]);
    const peers = names.map((name, i): FrrNode | null => {
      const vtepAddress = statuses[i]?.value.network?.vtepAddress;
      const spec = specsOf[i];
      return name !== node && spec && vtepAddress ? { name, role: spec.value.role, vtepAddress } : null;
    });
    this.nodesWithoutStatus = names.filter((name, i) => name !== node && statuses[i] === null);
    const self: FrrNode = { name: node, role, vtepAddress: facts.vtepAddress };
    const nodes = [self, ...peers.filter((p): p is FrrNode => p !== null)];
    const result = await frr.driver.apply(buildFrrConfig({ self, nodes, cluster, networks: specs, logDir: frr.logDir }));
    if (result !== 'unchanged') log.info({ result, peers: nodes.length - 1 }, 'frr configured');
  }

  private async reconcileFirewall(networks: readonly FirewallNetwork[]): Promise<void> {
    const ruleset = renderFirewall(networks);
    if (ruleset === this.lastFirewall) return;
    await (this.options.firewall as FirewallDriver).apply(ruleset);
    this.lastFirewall = ruleset;
    this.options.log.info({ networks: networks.length }, 'firewall applied');
  }
}
