// DNS, a primary runnable: PowerDNS up on the primary and its zones reconciled from ZooKeeper
// (reconcile/dns-plan.ts): every managed network's domain with its reservations and named
// leases, their reverse zones, and the cluster zone. The VMs ask their network's dnsmasq, which
// forwards these zones to this PowerDNS; so a VM resolves any other VM's name through PowerDNS.
import type { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import type { DnsDriver } from '../drivers/pdns/port.ts';
import { desiredZones, planDns, type DnsAction } from '../reconcile/dns-plan.ts';
import { Reconciler } from '../runtime/reconciler.ts';
import { NetworkWatches, readNetworkServicesView } from './network-view.ts';
import type { PrimaryContext, Runnable } from './runnables.ts';
import { TermGuard, settleWithin } from './term-guard.ts';
import { readAllNodeFacts } from '../../common/client/read.ts';

const RETRY_DELAY_MS = 500;

export interface DnsRunnableDeps {
  store: ZkStore;
  layout: ZkLayout;
  resyncIntervalMs: number;
  driver: DnsDriver;
  recordTtlS: number;
  /** What stop() waits for a pass in flight, past stopping PowerDNS. */
  stopWaitMs: number;
}

export class DnsRunnable implements Runnable {
  readonly name = 'dns';
  private readonly term = new TermGuard();
  private reconciler: Reconciler | null = null;
  private watches: NetworkWatches | null = null;

  constructor(private readonly deps: DnsRunnableDeps) {}

  async start(context: PrimaryContext): Promise<void> {
    const { store, layout, driver, resyncIntervalMs } = this.deps;
    const term = this.term.begin(context);
    driver.open();
    const reconciler = new Reconciler(() => this.pass(term), { name: 'dns', resyncIntervalMs, retryDelayMs: RETRY_DELAY_MS, log: context.log });
    this.reconciler = reconciler;
    // Nothing awaited: the first pass starts PowerDNS and fills it beside the other runnables'
    // starts; a failure is retried, never fatal to the primary.
    this.watches = new NetworkWatches(store, layout, { reservations: true, leases: true }, () => reconciler.trigger());
    this.watches.start();
    reconciler.start();
  }

  async stop(): Promise<void> {
    this.term.end();
    this.watches?.stop();
    await this.deps.driver.closeAll();
    await settleWithin(this.reconciler?.stop() ?? Promise.resolve(), this.deps.stopWaitMs).catch(() => undefined);
    this.reconciler = null;
  }

  private async pass(term: number): Promise<void> {
    if (!this.term.live(term)) return;
    const { store, layout, driver, recordTtlS } = this.deps;
    const started = await driver.ensureRunning();
    if (started === 'started') this.term.context?.log.info('powerdns started');
    const view = await readNetworkServicesView(store, layout, { reservations: true, leases: true });
    // Node addresses change rarely (a node joins, or moves its underlay): the resync picks them up.
    const nodes = (await readAllNodeFacts(store, layout)).flatMap((n) => (n.status?.network ? [{ node: n.spec.name, address: n.status.network.vtepAddress }] : []));
    const desired = desiredZones(view.networks, view.cluster, recordTtlS, nodes);
    const actions = planDns(desired, await driver.listZones());
    for (const action of actions) {
      if (!this.term.live(term)) return;
      await this.apply(action);
    }
  }

  private async apply(action: DnsAction): Promise<void> {
    const { driver } = this.deps;
    const log = this.term.context?.log;
    switch (action.kind) {
      case 'create-zone':
        await driver.createZone(action.zone);
        log?.info({ zone: action.zone.name, rrsets: action.zone.rrsets.length }, 'dns zone created');
        return;
      case 'delete-zone':
        await driver.deleteZone(action.name);
        log?.info({ zone: action.name }, 'dns zone deleted');
        return;
      case 'patch-zone':
        await driver.patchZone(action.name, action.replace, action.remove);
        log?.debug({ zone: action.name, replaced: action.replace.length, removed: action.remove.length }, 'dns zone updated');
        return;
      default: {
        const unknown: never = action;
        throw new Error(`unknown dns action ${JSON.stringify(unknown)}`);
      }
    }
  }
}
