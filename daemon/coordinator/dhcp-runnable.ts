// DHCP, a primary runnable: one dnsmasq per managed network (reconcile/dhcp-plan.ts), started,
// restarted on a config change and stopped on removal, from ZooKeeper; and the lease events they
// report written back to ZooKeeper (lease-writeback.ts).
//
// Two loops: `specs` (networks, reservations -> dnsmasq instances) and `leases` (spooled events
// -> ZooKeeper), so a slow one never holds up the other. Every pass belongs to a term (one start
// to the next stop) and checks it before each action; stop() fences the driver first, so nothing
// a late pass does can leave a dnsmasq answering after this node stopped being primary.
import { errorMessage } from '../../common/errors.ts';
import type { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { readLeases } from '../../common/client/network-read.ts';
import { parseLeaseEvent } from '../drivers/dnsmasq/parse.ts';
import type { DhcpDriver } from '../drivers/dnsmasq/port.ts';
import { renderDnsmasqConfig, reservationFiles } from '../drivers/dnsmasq/render.ts';
import { dnsmasqInputOf, planDhcp, type DhcpAction, type DhcpSettings } from '../reconcile/dhcp-plan.ts';
import { servedZones } from '../reconcile/dns-zones.ts';
import { Reconciler } from '../runtime/reconciler.ts';
import { recordLeaseEvent } from './lease-writeback.ts';
import { NetworkWatches, readNetworkServicesView } from './network-view.ts';
import type { PrimaryContext, Runnable } from './runnables.ts';
import { TermGuard, settleWithin } from './term-guard.ts';

const SPEC_RETRY_DELAY_MS = 500;
const LEASE_RETRY_DELAY_MS = 250;

export interface DhcpRunnableDeps {
  store: ZkStore;
  layout: ZkLayout;
  resyncIntervalMs: number;
  driver: DhcpDriver;
  /** The fixed settings; zones and upstream resolvers come from ZooKeeper at each pass. */
  settings: Omit<DhcpSettings, 'servedZones' | 'upstreamResolvers'>;
  /** What stop() may spend on recording the last lease events (part of the runnable stop timeout). */
  finalDrainMs: number;
}

export class DhcpRunnable implements Runnable {
  readonly name = 'dhcp';
  private readonly term = new TermGuard();
  private specs: Reconciler | null = null;
  private leases: Reconciler | null = null;
  private watches: NetworkWatches | null = null;
  private unwatchEvents: (() => void) | null = null;
  /** Networks whose dnsmasq this term started (later starts keep dnsmasq's own lease file). */
  private readonly startedThisTerm = new Set<string>();
  private drainedThisTerm = false;

  constructor(private readonly deps: DhcpRunnableDeps) {}

  async start(context: PrimaryContext): Promise<void> {
    const { store, layout, driver, resyncIntervalMs } = this.deps;
    const term = this.term.begin(context);
    this.startedThisTerm.clear();
    driver.open();
    const log = context.log;
    const specs = new Reconciler(() => this.pass(term), { name: 'dhcp', resyncIntervalMs, retryDelayMs: SPEC_RETRY_DELAY_MS, log });
    const leases = new Reconciler(() => this.drain(term), { name: 'dhcp-leases', resyncIntervalMs, retryDelayMs: LEASE_RETRY_DELAY_MS, log });
    this.specs = specs;
    this.leases = leases;
    this.drainedThisTerm = false;
    // Nothing awaited: the first passes run beside the other runnables' (DHCP answers sooner).
    this.watches = new NetworkWatches(store, layout, { reservations: true, leases: false }, () => specs.trigger());
    this.watches.start();
    this.unwatchEvents = driver.watchEvents(() => leases.trigger());
    specs.start();
    leases.start();
  }

  async stop(): Promise<void> {
    const context = this.term.context;
    const stillPrimary = context?.stillPrimary() ?? false;
    this.term.end();
    this.watches?.stop();
    this.unwatchEvents?.();
    // Fence and stop every dnsmasq before anything else: that is what must happen in time.
    await this.deps.driver.closeAll();
    // Events of the last moments, while this node still holds the lock (a planned handover).
    if (stillPrimary && context) {
      const finalTerm = this.term.begin(context);
      await settleWithin(this.drain(finalTerm), this.deps.finalDrainMs).catch(() => undefined);
      this.term.end();
    }
    await settleWithin(Promise.all([this.specs?.stop(), this.leases?.stop()]), this.deps.finalDrainMs).catch(() => undefined);
    this.specs = null;
    this.leases = null;
  }

  private async pass(term: number): Promise<void> {
    if (!this.term.live(term)) return;
    const { store, layout, driver, settings } = this.deps;
    if (!this.drainedThisTerm) {
      // Events left from this node's earlier term first, so the lease files seeded next include them.
      await this.drain(term).catch((error) => this.term.context?.log.warn({ err: errorMessage(error) }, 'recording spooled lease events failed; retrying'));
      this.drainedThisTerm = true;
    }
    const view = await readNetworkServicesView(store, layout, { reservations: true, leases: false });
    const zones = servedZones(view.networks.map((n) => n.spec), view.cluster);
    const desired = view.networks.map((n) => ({
      network: n.spec.name,
      configText: renderDnsmasqConfig(dnsmasqInputOf(n.spec, { ...settings, servedZones: zones, upstreamResolvers: view.cluster.upstreamResolvers }), driver.pathsOf(n.spec.name)),
      reservations: reservationFiles(n.reservations),
    }));
    const actions = planDhcp(desired, await driver.instances(), this.startedThisTerm);
    const failures: string[] = [];
    for (const action of actions) {
      if (!this.term.live(term)) return;
      try {
        await this.apply(term, action);
      } catch (error) {
        // One network's failure does not hold up the others; the retry comes back for it.
        failures.push(`${action.network}: ${errorMessage(error)}`);
      }
    }
    if (failures.length > 0) throw new Error(`dhcp: ${failures.join('; ')}`);
  }

  private async apply(term: number, action: DhcpAction): Promise<void> {
    const { store, layout, driver } = this.deps;
    const log = this.term.context?.log;
    switch (action.kind) {
      case 'start': {
        const seed = action.seedFromZk ? await readLeases({ store, layout }, action.network) : null;
        if (!this.term.live(term)) return;
        await driver.start(action.network, action.configText, action.reservations, seed);
        this.startedThisTerm.add(action.network);
        log?.info({ network: action.network, reason: action.reason, seededLeases: seed?.length ?? null }, 'dnsmasq started');
        return;
      }
      case 'stop':
        await driver.stop(action.network);
        log?.info({ network: action.network }, 'dnsmasq stopped: network gone');
        return;
      case 'sync-reservations': {
        const outcome = await driver.syncReservations(action.network, action.reservations);
        log?.info({ network: action.network, outcome }, 'dhcp reservations updated');
        return;
      }
      default: {
        const unknown: never = action;
        throw new Error(`unknown dhcp action ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Records spooled lease events in order; stops at the first failed write (tried again later). */
  private async drain(term: number): Promise<void> {
    const { store, layout, driver } = this.deps;
    const log = this.term.context?.log;
    for (const spooled of await driver.pendingEvents()) {
      if (!this.term.live(term)) return;
      let event;
      try {
        event = parseLeaseEvent(spooled.text);
      } catch (error) {
        log?.warn({ network: spooled.network, event: spooled.id, err: errorMessage(error) }, 'dropping a lease event pvc cannot record');
        await driver.removeEvent(spooled.network, spooled.id);
        continue;
      }
      const outcome = await recordLeaseEvent(store, layout, spooled.network, event);
      await driver.removeEvent(spooled.network, spooled.id);
      log?.debug({ network: spooled.network, mac: event.mac, action: event.action, ipv4: event.ipv4, outcome }, 'lease event recorded');
    }
  }
}
