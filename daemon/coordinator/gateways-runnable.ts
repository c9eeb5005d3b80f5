// Gateways, a primary runnable: each managed network's gateway addresses on its bridge and the
// cluster's floating IPs (reconcile/gateway-plan.ts), added when this node becomes primary and
// removed when it stops. Each address lives on a kernel lifetime, renewed every renewIntervalMs
// while this node may act as primary: a primary that dies or freezes loses its addresses when
// the lifetime runs out (and with them its dnsmasq's DHCP and DNS), even though nothing ran its
// stop(). An IPv4 address is announced with gratuitous ARP when this term first holds it (twice,
// the second a moment later), so the VMs' cached neighbour entry moves to this node's bridge.
import { readLeases, readReservations } from '../../common/client/network-read.ts';
import { errorMessage } from '../../common/errors.ts';
import type { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { GatewayError, type GatewayDriver } from '../drivers/gateway/port.ts';
import { addressKey, desiredGateways, planGateways, releaseGateways, type DesiredGateways, type GatewayAction, type GatewayAddress } from '../reconcile/gateway-plan.ts';
import { Reconciler } from '../runtime/reconciler.ts';
import { NetworkWatches, readNetworkServicesView } from './network-view.ts';
import type { PrimaryContext, Runnable } from './runnables.ts';
import { TermGuard, settleWithin } from './term-guard.ts';

const RETRY_DELAY_MS = 500;
/** The second gratuitous ARP, for a client that missed the first. */
const SECOND_ANNOUNCE_DELAY_MS = 500;
/** ARP requests to a network's clients in flight at once, when this node takes its gateway. */
const NEIGHBOUR_ASK_CONCURRENCY = 8;
/**
 * When the rounds of ARP requests start, after the address is up: later rounds catch clients whose
 * entry changed within their 1 s locktime of an earlier one (it changes often while the old
 * primary fades: probes, failures).
 */
const NEIGHBOUR_ASK_ROUNDS_MS = [0, 1_500, 2_500];
/** While a bridge does not exist yet (the node's link reconciler is creating it), look again this often. */
const DEVICE_RECHECK_MS = 250;

export interface GatewaysRunnableDeps {
  store: ZkStore;
  layout: ZkLayout;
  resyncIntervalMs: number;
  gateway: GatewayDriver;
  /** The kernel lifetime of every address (whole seconds); about one session timeout. */
  addressLifetimeS: number;
  /** How often the addresses are renewed; a few times per lifetime. */
  renewIntervalMs: number;
  /** Where a floating IP without a device goes; null: such a floating IP is reported, not placed. */
  floatingIpDevice: string | null;
  /** What stop() waits for an address change in flight before it removes the addresses. */
  stopWaitMs: number;
}

export class GatewaysRunnable implements Runnable {
  readonly name = 'gateways';
  private readonly term = new TermGuard();
  private reconciler: Reconciler | null = null;
  private watches: NetworkWatches | null = null;
  /** Addresses this term added ("device cidr"); only these are removed from non-gateway devices. */
  private readonly owned = new Set<string>();
  private lastDesired: DesiredGateways | null = null;
  private inFlight: Promise<unknown> = Promise.resolve();
  private readonly reported = new Set<string>();
  private recheck: NodeJS.Timeout | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  /** IPv4 addresses announced this term. */
  private readonly announced = new Set<string>();

  constructor(private readonly deps: GatewaysRunnableDeps) {}

  async start(context: PrimaryContext): Promise<void> {
    const { store, layout, resyncIntervalMs } = this.deps;
    const term = this.term.begin(context);
    this.announced.clear();
    const reconciler = new Reconciler(() => this.pass(term), { name: 'gateways', resyncIntervalMs, retryDelayMs: RETRY_DELAY_MS, log: context.log });
    this.reconciler = reconciler;
    // Nothing awaited: the first pass adds the addresses beside the other runnables' starts
    // (dnsmasq binds to an address that appears later: bind-dynamic).
    this.watches = new NetworkWatches(store, layout, { reservations: false, leases: false }, () => reconciler.trigger());
    this.watches.start();
    reconciler.start();
    this.renewTimer = setInterval(() => void this.renew(term), this.deps.renewIntervalMs);
  }

  async stop(): Promise<void> {
    const log = this.term.context?.log;
    this.term.end();
    this.watches?.stop();
    if (this.recheck) clearTimeout(this.recheck);
    if (this.renewTimer) clearInterval(this.renewTimer);
    void this.reconciler?.stop();
    this.reconciler = null;
    // An `ip addr add` already running would land after the removal below: let it finish first.
    await settleWithin(this.inFlight, this.deps.stopWaitMs);
    const observed = await this.deps.gateway.listAddresses();
    const release = releaseGateways(this.lastDesired, observed, this.owned);
    const results = await Promise.allSettled(release.map((a) => this.deps.gateway.remove(a.device, a.cidr)));
    results.forEach((result, i) => {
      if (result.status === 'rejected') log?.error({ address: release[i], err: errorMessage(result.reason) }, 'could not remove a gateway address');
    });
    this.owned.clear();
    log?.info({ removed: release.map((a) => `${a.device} ${a.cidr}`) }, 'gateway addresses removed');
  }

  private async pass(term: number): Promise<void> {
    if (!this.term.live(term)) return;
    const { store, layout, gateway, floatingIpDevice } = this.deps;
    const view = await readNetworkServicesView(store, layout, { reservations: false, leases: false });
    const desired = desiredGateways(view.networks.map((n) => n.spec), view.cluster, floatingIpDevice);
    this.lastDesired = desired;
    for (const problem of desired.problems) this.reportOnce(problem);
    const observed = await gateway.listAddresses();
    const actions = planGateways(desired, observed, this.owned);
    // Present from before this term (a restart within the lifetime): announce them all the same.
    for (const address of desired.addresses) {
      const present = observed.some((l) => l.name === address.device && l.addresses.includes(address.cidr));
      if (present && address.announce) this.announceOnce(term, address);
    }
    let waiting = false;
    for (const action of actions) {
      if (!this.term.live(term)) return;
      if (action.kind === 'wait-for-device') {
        waiting = true;
        this.reportOnce(`waiting for ${action.device} to exist for ${action.cidr}`);
        continue;
      }
      const work = this.apply(term, action);
      this.inFlight = work.catch(() => undefined);
      await work;
    }
    if (waiting) {
      if (this.recheck) clearTimeout(this.recheck);
      this.recheck = setTimeout(() => this.reconciler?.trigger(), DEVICE_RECHECK_MS);
    }
  }

  private async apply(term: number, action: Exclude<GatewayAction, { kind: 'wait-for-device' }>): Promise<void> {
    const { gateway, addressLifetimeS } = this.deps;
    const log = this.term.context?.log;
    switch (action.kind) {
      case 'add': {
        const { device, cidr, announce } = action.address;
        await gateway.lease(device, cidr, addressLifetimeS);
        this.owned.add(addressKey(device, cidr));
        log?.info({ device, cidr, lifetimeS: addressLifetimeS }, 'gateway address added');
        if (announce) this.announceOnce(term, action.address);
        return;
      }
      case 'remove':
        await gateway.remove(action.device, action.cidr);
        this.owned.delete(addressKey(action.device, action.cidr));
        log?.info({ device: action.device, cidr: action.cidr }, 'gateway address removed');
        return;
      default: {
        const unknown: never = action;
        throw new Error(`unknown gateway action ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Renews the lifetime of every wanted address (the last pass's); no ZooKeeper read, so a slow ensemble does not let them lapse. */
  private async renew(term: number): Promise<void> {
    const desired = this.lastDesired;
    if (!desired || !this.term.live(term)) return;
    const { gateway, addressLifetimeS } = this.deps;
    await Promise.all(
      desired.addresses.map(async ({ device, cidr }) => {
        if (!this.term.live(term)) return;
        try {
          await gateway.lease(device, cidr, addressLifetimeS);
          this.owned.add(addressKey(device, cidr));
        } catch (error) {
          // A device that does not exist yet is the pass's business (it waits for it).
          if (!(error instanceof GatewayError && error.kind === 'not-found')) this.term.context?.log.warn({ device, cidr, err: errorMessage(error) }, 'gateway address renewal failed');
        }
      }),
    );
  }

  /**
   * Tells the clients this node now holds the address: a gratuitous ARP (twice), and an ARP
   * request to every known client of the network (which EVPN carries to other nodes), read after
   * the address is up. Not awaited: an announcement that fails costs a client a stale neighbour
   * entry, not the address.
   */
  private announceOnce(term: number, address: GatewayAddress): void {
    const { device, cidr, network } = address;
    const key = addressKey(device, cidr);
    if (this.announced.has(key)) return;
    this.announced.add(key);
    const ipv4 = cidr.slice(0, cidr.indexOf('/'));
    const log = this.term.context?.log;
    const send = (): void => {
      if (!this.term.live(term)) return;
      this.deps.gateway.announce(device, ipv4).catch((error) => log?.warn({ device, ipv4, err: errorMessage(error) }, 'gratuitous arp failed'));
    };
    send();
    setTimeout(send, SECOND_ANNOUNCE_DELAY_MS).unref();
    if (network !== null) void this.askClients(term, device, ipv4, network);
  }

  /** An ARP request to every lease and reservation address of the network, a few at a time. */
  private async askClients(term: number, device: string, ipv4: string, network: string): Promise<void> {
    const { store, layout } = this.deps;
    const log = this.term.context?.log;
    let queue: string[];
    try {
      const target = { store, layout };
      const [leases, reservations] = await Promise.all([readLeases(target, network), readReservations(target, network)]);
      queue = [...new Set([...leases.map((l) => l.ipv4), ...reservations.map((r) => r.value.ipv4)])].filter((ip) => ip !== ipv4);
    } catch (error) {
      log?.warn({ network, err: errorMessage(error) }, 'cannot read the network clients to tell them of the gateway');
      return;
    }
    // Rounds: a client takes no new MAC for an address within a second (locktime) of its entry's
    // last change. The delays are between rounds.
    for (const [round, delayMs] of NEIGHBOUR_ASK_ROUNDS_MS.entries()) {
      await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      if (!this.term.live(term)) return;
      await this.deps.gateway.forgetNeighbours(device).catch((error) => log?.debug({ device, err: errorMessage(error) }, 'cannot empty the neighbour cache'));
      const pending = [...queue];
      const worker = async (): Promise<void> => {
        for (let target = pending.shift(); target !== undefined && this.term.live(term); target = pending.shift()) {
          await this.deps.gateway.askNeighbour(device, ipv4, target).catch((error) => log?.debug({ device, target, round, err: errorMessage(error) }, 'arp request to a client failed'));
        }
      };
      await Promise.all(Array.from({ length: NEIGHBOUR_ASK_CONCURRENCY }, worker));
    }
  }

  private reportOnce(problem: string): void {
    if (this.reported.has(problem)) return;
    this.reported.add(problem);
    this.term.context?.log.warn({ problem }, 'gateway address not placed');
  }
}
