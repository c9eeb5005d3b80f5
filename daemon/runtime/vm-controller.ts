// The VM controller of one node: keeps this node's hypervisor in step with the VMs in ZooKeeper.
// Watches only mark a VM dirty; a worker takes dirty VMs (a few at a time), reads the spec, the
// status and the hypervisor afresh, asks the pure planner (reconcile/vm-plan.ts) for the next
// step, applies it through the hypervisor driver and plans again. A periodic resync marks every
// VM, so a lost watch event costs latency, never correctness.
//
// On start-up nothing is restarted: a domain that already runs is simply observed running and
// reported (the adoption the design asks for).
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.ts';
import { renderDomainXml, type DomainNodeFacts } from '../../common/vm/domain-xml.ts';
import type { VmSpec, VmState, VmStatus, ZkLayout } from '../../common/zk/schema.ts';
import { SKIP, isZkError, type ZkStore } from '../../common/zk/store.ts';
import { isCephError } from '../drivers/ceph/port.ts';
import { isHypervisorError, type HypervisorDriver } from '../drivers/hypervisor/port.ts';
import { planVm, type DomainPresence, type FinishableState, type VmAction } from '../reconcile/vm-plan.ts';
import { monotonicNowMs } from './primary-lease.ts';
import type { RbdGuard } from './rbd-guard.ts';

/** VMs reconciled at once: enough to start many guests together, few enough for 2 cores. */
export const VM_RECONCILE_CONCURRENCY = 4;
/** Steps one VM may take in one go; the longest path (restart) needs five. */
const MAX_STEPS_PER_VM = 12;
/** How soon a VM that is waiting (a guest powering off, another node letting go) is looked at again. */
export const VM_WAIT_RECHECK_MS = 500;
/** A live migration taking longer is aborted (the VM stays on the source); 128 MiB takes ~2 s here. */
export const LIVE_MIGRATION_TIMEOUT_MS = 120_000;
/** How fresh the stats in a running VM's status are kept (one write per VM per interval). */
export const VM_STATS_INTERVAL_MS = 10_000;
/** After a failed step (ZooKeeper or hypervisor unreachable), the VM is retried after this. */
const VM_RETRY_DELAY_MS = 2_000;

export interface VmControllerOptions {
  store: ZkStore;
  layout: ZkLayout;
  node: string;
  driver: HypervisorDriver;
  facts: DomainNodeFacts;
  /** ACPI power button -> destroy, for shutdown, disable and moves. */
  shutdownTimeoutMs: number;
  resyncIntervalMs: number;
  log: Logger;
  /** Checks who holds a VM's RBD volumes before it starts here; null when this node has no Ceph. */
  rbdGuard?: Pick<RbdGuard, 'ensureAccess'> | null;
  /** Holds a VM's start while a network of its NICs is still being built on this node (network-controller.ts). */
  nicGuard?: { nicsReady(spec: VmSpec): Promise<'ready' | 'wait'> } | null;
}

export class VmController {
  private readonly dirty = new Set<string>();
  private readonly inFlight = new Set<string>();
  /** VMs seen in ZooKeeper by this process: only those are stopped when their spec goes. */
  private readonly known = new Set<string>();
  private readonly specWatches = new Map<string, () => void>();
  /** When this process pressed the ACPI button of a VM (monotonic ms). */
  private readonly acpiPressedAt = new Map<string, number>();
  /** VMs whose live migration to the named node failed: they move by stop and start instead. */
  private readonly liveMigrationFailedTo = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private unwatchDir: (() => void) | null = null;
  /** When each running VM's stats were last written (monotonic ms). */
  private readonly statsAt = new Map<string, number>();
  /** VMs seen running on this node at their last look; its size goes into the node's status. */
  private readonly seenRunning = new Set<string>();
  private resyncTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private workers = 0;
  private idle: Promise<void> = Promise.resolve();
  private resolveIdle: (() => void) | null = null;

  constructor(private readonly options: VmControllerOptions) {}

  start(): void {
    const { store, layout, resyncIntervalMs } = this.options;
    this.stopped = false;
    this.unwatchDir = store.watch(layout.vmsDir(), 'children', () => void this.syncChildren());
    this.resyncTimer = setInterval(() => void this.syncChildren(true), resyncIntervalMs);
    void this.syncChildren(true).then(() => this.reportForeignDomains());
  }

  /**
   * Domains on this hypervisor that no VM of the cluster names (made by hand, or left by a VM
   * removed while this pvcd was down) are never touched: pvc cannot know they are its own. Each
   * is named in the log once, at start, for an administrator to look at.
   */
  private async reportForeignDomains(): Promise<void> {
    try {
      for (const domain of await this.options.driver.listDomains()) {
        if (!this.known.has(domain.name)) {
          this.options.log.warn({ domain: domain.name, state: domain.state }, 'domain on this node belongs to no vm of the cluster; left alone');
        }
      }
    } catch (error) {
      this.options.log.warn({ err: errorMessage(error) }, 'could not list the domains of this node');
    }
  }

  /** Stops reconciling; running VMs are left running (a pvcd restart never touches them). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatchDir?.();
    for (const unwatch of this.specWatches.values()) unwatch();
    this.specWatches.clear();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.idle;
  }

  get runningCount(): number {
    return this.seenRunning.size;
  }

  /** VMs this process has seen in ZooKeeper (a self-fence uses them when ZooKeeper is gone). */
  get knownNames(): string[] {
    return [...this.known];
  }

  private async syncChildren(markAll = false): Promise<void> {
    if (this.stopped) return;
    const { store, layout } = this.options;
    let names: string[];
    try {
      names = await store.children(layout.vmsDir());
    } catch (error) {
      this.options.log.warn({ err: errorMessage(error) }, 'could not list vms');
      return;
    }
    const present = new Set(names);
    for (const name of names) {
      if (!this.specWatches.has(name)) {
        this.specWatches.set(name, store.watch(layout.vm(name), 'data', () => this.mark(name)));
        this.known.add(name);
        this.mark(name);
      } else if (markAll) this.mark(name);
    }
    for (const [name, unwatch] of this.specWatches) {
      if (present.has(name)) continue;
      unwatch();
      this.specWatches.delete(name);
      this.mark(name); // removed: its domain here (if any) must go
    }
    if (markAll) for (const name of this.known) if (!present.has(name)) this.mark(name);
  }

  private mark(name: string): void {
    if (this.stopped) return;
    this.dirty.add(name);
    this.pump();
  }

  private markLater(name: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.mark(name);
    }, delayMs);
    this.timers.add(timer);
  }

  private pump(): void {
    while (this.workers < VM_RECONCILE_CONCURRENCY) {
      const next = [...this.dirty].find((name) => !this.inFlight.has(name));
      if (next === undefined) break;
      this.dirty.delete(next);
      this.inFlight.add(next);
      if (this.workers === 0) this.idle = new Promise((resolve) => (this.resolveIdle = resolve));
      this.workers += 1;
      void this.reconcile(next).finally(() => {
        this.inFlight.delete(next);
        this.workers -= 1;
        if (!this.stopped) this.pump();
        if (this.workers === 0) this.resolveIdle?.();
      });
    }
  }

  private async reconcile(name: string): Promise<void> {
    try {
      for (let step = 0; step < MAX_STEPS_PER_VM && !this.stopped; step += 1) {
        const action = await this.nextAction(name);
        if (action.kind === 'settled') {
          await this.refreshStatsIfDue(name);
          return;
        }
        if (action.kind === 'wait') {
          this.options.log.debug({ vm: name, reason: action.reason }, 'vm waiting');
          this.markLater(name, VM_WAIT_RECHECK_MS);
          return;
        }
        this.options.log.info({ vm: name, action }, 'vm step');
        if ((await this.apply(name, action)) === 'wait') {
          this.markLater(name, VM_WAIT_RECHECK_MS);
          return;
        }
      }
      this.markLater(name, VM_WAIT_RECHECK_MS);
    } catch (error) {
      this.options.log.warn({ vm: name, err: errorMessage(error) }, 'vm reconcile failed; retrying');
      this.markLater(name, VM_RETRY_DELAY_MS);
    }
  }

  private async nextAction(name: string): Promise<VmAction> {
    const { store, layout, node } = this.options;
    const [spec, status, domain] = await Promise.all([store.get(layout.vm(name)), store.get(layout.vmStatus(name)), this.presence(name)]);
    // A domain this process never saw in ZooKeeper is not ours to remove.
    if (!spec && !this.known.has(name)) return { kind: 'settled' };
    if (!spec) this.known.delete(name);
    if (domain === 'running') this.seenRunning.add(name);
    else {
      this.seenRunning.delete(name);
      this.acpiPressedAt.delete(name);
    }
    const target = spec?.value.node ?? null;
    if (this.liveMigrationFailedTo.has(name) && this.liveMigrationFailedTo.get(name) !== target) this.liveMigrationFailedTo.delete(name);
    return planVm({
      me: node,
      spec: spec?.value ?? null,
      status: status?.value ?? null,
      domain,
      shutdownPressedAtMs: this.acpiPressedAt.get(name) ?? null,
      nowMs: monotonicNowMs(),
      shutdownTimeoutMs: this.options.shutdownTimeoutMs,
      liveMigrationFailed: this.liveMigrationFailedTo.has(name),
    });
  }

  /**
   * A VM this node runs and reports started gets fresh stats at most every VM_STATS_INTERVAL_MS
   * (the periodic resync brings it here); a failure to read them only costs their freshness.
   */
  private async refreshStatsIfDue(name: string): Promise<void> {
    const { store, layout, driver, node } = this.options;
    const now = monotonicNowMs();
    if (!this.seenRunning.has(name) || now - (this.statsAt.get(name) ?? Number.NEGATIVE_INFINITY) < VM_STATS_INTERVAL_MS) return;
    this.statsAt.set(name, now);
    try {
      const stats = await driver.domainStats(name);
      await store.update(layout.vmStatus(name), (current) => (current?.node === node && current.state === 'start' ? { ...current, stats, updatedAtMs: Date.now() } : SKIP));
    } catch (error) {
      this.options.log.debug({ vm: name, err: errorMessage(error) }, 'could not refresh vm stats');
    }
  }

  private async presence(name: string): Promise<DomainPresence> {
    try {
      const { state } = await this.options.driver.domainState(name);
      return state === 'running' || state === 'blocked' || state === 'paused' || state === 'shutdown' ? 'running' : 'stopped';
    } catch (error) {
      if (isHypervisorError(error, 'not-found')) return 'absent';
      throw error;
    }
  }

  /** Carries out one step; 'wait' when the step cannot be taken yet and the VM is looked at later. */
  private async apply(name: string, action: Exclude<VmAction, { kind: 'settled' | 'wait' }>): Promise<'done' | 'wait'> {
    const { driver } = this.options;
    switch (action.kind) {
      case 'start':
        return await this.startVm(name, action.finish);
      case 'migrate-live':
        await this.migrateLive(name, action.target);
        return 'done';
      case 'press-acpi':
        await driver.shutdown(name);
        this.acpiPressedAt.set(name, monotonicNowMs());
        return 'done';
      case 'destroy':
        this.options.log.info({ vm: name, reason: action.reason }, 'destroying vm');
        await ignoring('invalid-state', () => driver.destroy(name));
        this.acpiPressedAt.delete(name);
        return 'done';
      case 'undefine':
        await ignoring('not-found', () => driver.undefine(name));
        return 'done';
      case 'report':
        await this.report(name, action.state, action.failureReason);
        return 'done';
      default: {
        const unknown: never = action;
        throw new Error(`unhandled vm action ${JSON.stringify(unknown)}`);
      }
    }
  }

  private async startVm(name: string, finish: FinishableState | null): Promise<'done' | 'wait'> {
    const { store, layout, driver, facts, rbdGuard, nicGuard } = this.options;
    const spec = (await store.mustGet(layout.vm(name), `vm ${name}`)).value;
    try {
      // Bridges first: the RBD check may blocklist a stale holder, which only a real start should do.
      if (nicGuard && (await nicGuard.nicsReady(spec)) === 'wait') return 'wait';
      if (rbdGuard && (await rbdGuard.ensureAccess(spec, (await store.get(layout.vmStatus(name)))?.value ?? null)) === 'wait') return 'wait';
      await driver.define(renderDomainXml(spec, facts));
      await ignoring('invalid-state', () => driver.start(name));
    } catch (error) {
      // Operating errors of the hypervisor or the spec (bad XML, missing files) fail the VM with
      // the reason; an unreachable hypervisor is retried instead.
      if (isHypervisorError(error, 'unreachable') || isHypervisorError(error, 'timeout') || isTransientCephError(error)) throw error;
      await this.report(name, 'fail', errorMessage(error));
      return 'done';
    }
    if (finish) await this.finishDesired(name, finish, this.options.node);
    await this.report(name, 'start', null);
    return 'done';
  }

  /**
   * Moves the running domain to `target` by live migration. Success hands the status over to the
   * target (the VM runs there now) and finishes the migrate/unmigrate request; failure makes the
   * next step a stop-and-start move instead, as the migration method allows.
   */
  private async migrateLive(name: string, target: string): Promise<void> {
    const { store, layout, driver, log } = this.options;
    const spec = (await store.mustGet(layout.vm(name), `vm ${name}`)).value;
    const targetStatus = (await store.get(layout.nodeStatus(target)))?.value;
    const hv = targetStatus?.hypervisor;
    if (!hv) {
      this.liveMigrationFailedTo.set(name, target);
      log.warn({ vm: name, target }, 'target node reports no hypervisor; moving the vm by stop and start');
      return;
    }
    const destinationXml = renderDomainXml(spec, { ...this.options.facts, node: target, consoleLogDir: hv.consoleLogDir });
    const startedAt = monotonicNowMs();
    try {
      await driver.migrateLive(name, { uri: hv.uri, migrateUri: hv.migrateUri }, { timeoutMs: LIVE_MIGRATION_TIMEOUT_MS, maxDowntimeMs: spec.placement.maxDowntimeMs, destinationXml });
    } catch (error) {
      if (isHypervisorError(error, 'unreachable')) throw error;
      this.liveMigrationFailedTo.set(name, target);
      log.warn({ vm: name, target, err: errorMessage(error) }, 'live migration failed; moving the vm by stop and start');
      return;
    }
    log.info({ vm: name, target, elapsedMs: Math.round(monotonicNowMs() - startedAt) }, 'live-migrated vm');
    this.acpiPressedAt.delete(name);
    // Hand the status over: the target waits for it (it sees the incoming domain meanwhile).
    // Only our own `migrate` report is replaced, never something newer the target wrote.
    await this.report(name, 'start', null, target, (current) => current?.node === this.options.node && current.state === 'migrate');
    if (spec.desiredState === 'migrate' || spec.desiredState === 'unmigrate') await this.finishDesired(name, spec.desiredState, target);
  }

  /** Desired state back to start once done; compare-and-set, so a newer request wins. */
  private async finishDesired(name: string, done: FinishableState, node: string): Promise<void> {
    const { store, layout } = this.options;
    await store.update(layout.vm(name), (current): VmSpec | typeof SKIP =>
      current?.desiredState === done && current.node === node ? { ...current, desiredState: 'start' } : SKIP,
    );
  }

  /**
   * Writes the VM's status as this node (or, right after a live migration, as the node it now runs
   * on), with compare-and-set; `onlyIf` sees the current status and may refuse the write.
   */
  private async report(name: string, state: VmState, failureReason: string | null, node = this.options.node, onlyIf: (current: VmStatus | undefined) => boolean = () => true): Promise<void> {
    const { store, layout } = this.options;
    try {
      await store.update(layout.vmStatus(name), (current) => {
        if (!onlyIf(current)) return SKIP;
        const ranOn = state === 'start' || state === 'migrate' ? node : (current?.ranOn ?? (current?.state === 'start' ? current.node : null));
        return { state, node, failureReason, stats: null, updatedAtMs: Date.now(), ranOn };
      });
    } catch (error) {
      // The VM was removed meanwhile (its spec, and so the status' parent, is gone).
      if (!isZkError(error, 'NO_NODE')) throw error;
    }
  }
}

/** Ceph did not answer: the start is retried rather than failed. */
function isTransientCephError(error: unknown): boolean {
  return isCephError(error, 'unreachable') || isCephError(error, 'timeout');
}

/** Runs a driver call; a hypervisor error of the given kind means "already done". */
async function ignoring(kind: 'invalid-state' | 'not-found', call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!isHypervisorError(error, kind)) throw error;
  }
}
