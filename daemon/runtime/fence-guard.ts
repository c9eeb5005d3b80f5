// The node's side of fencing, in pvcd: keeps this node from running VMs that may run elsewhere.
//
// - While a fence record for this node exists (the primary fenced it, `pvc node fence`, or this
//   node fenced itself), pvcd stays in daemon state `fenced`: its VM controller is stopped and
//   every domain of a cluster VM on this node is destroyed (at every check, so that none arrives
//   later). It then adds a `self-fence` step to the record, which tells the primary the VMs are
//   gone (so a fence whose power off failed can still release them) and that this node has seen
//   the record: only then may it be returned to service. It adds that step only once the fencer
//   has recorded its power off (whatever the result): a `self-fence` step before it means "no
//   power off needed" to the fencer (reconcile/fence-plan.ts), so a live node fenced by hand
//   (`pvc node fence`) would never be powered off. When `pvc node ready` (or the primary, with
//   ha.autoReturn) removes the record, the VM controller starts again.
// - Self-fence: when this node has not heard from ZooKeeper for selfFenceAfterMs (measured on its
//   own monotonic clock from the send time of its last answered keepalive), it destroys its VMs
//   at once, without ZooKeeper, and records the self-fence once it can write again. The primary
//   waits longer than this bound before recovering a node whose power off it could not confirm.
import type { Logger } from 'pino';
import { fenceSeenByNode, recordFault } from '../../common/client/ha.ts';
import { readVmNames } from '../../common/client/vm-read.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Fence, ZkLayout } from '../../common/zk/schema.ts';
import { SKIP, isZkError, type ZkStore } from '../../common/zk/store.ts';
import { isHypervisorError, type HypervisorDriver } from '../drivers/hypervisor/port.ts';
import { monotonicNowMs } from './primary-lease.ts';

/** How often the guard looks at its fence record and at how long ZooKeeper has been silent. */
export const FENCE_GUARD_CHECK_MS = 250;

export interface FenceGuardOptions {
  store: ZkStore;
  layout: ZkLayout;
  node: string;
  /** null: this node never destroys its VMs on its own when ZooKeeper is gone. */
  selfFenceAfterMs: number | null;
  /** The node's hypervisor; null when it runs no VMs. */
  driver: HypervisorDriver | null;
  /** VM names the VM controller has seen (usable without ZooKeeper). */
  knownVms: () => Iterable<string>;
  /** Stops (true) or starts again (false) the VM controller. */
  setVmsFenced: (fenced: boolean) => Promise<void>;
  onStateChange: (fenced: boolean) => void;
  log: Logger;
}

export class FenceGuard {
  private lastContactMs = monotonicNowMs();
  private timer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  private fencedMode = false;
  /** Self-fenced while cut off; the record is still to be written. */
  private selfFenceDetail: string | null = null;
  private checking: Promise<void> | null = null;

  constructor(private readonly options: FenceGuardOptions) {}

  get fenced(): boolean {
    return this.fencedMode;
  }

  /** The keepalive calls this with the send time of every write ZooKeeper answered. */
  noteContact(sentAtMs: number): void {
    this.lastContactMs = Math.max(this.lastContactMs, sentAtMs);
  }

  /** Looks at the fence record once (pvcd's start waits for this before starting its VMs). */
  async checkNow(): Promise<void> {
    this.checking ??= this.check().finally(() => (this.checking = null));
    return this.checking;
  }

  start(): void {
    const { store, layout, node } = this.options;
    this.unwatch = store.watch(layout.nodeFence(node), 'exists', () => void this.checkNow().catch(() => undefined));
    this.timer = setInterval(() => {
      void this.selfFenceIfCutOff();
      this.checkNow().catch((error) => this.options.log.debug({ err: errorMessage(error) }, 'fence check failed'));
    }, FENCE_GUARD_CHECK_MS);
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async selfFenceIfCutOff(): Promise<void> {
    const bound = this.options.selfFenceAfterMs;
    if (bound === null || this.selfFenceDetail !== null || this.fencedMode) return;
    const silentMs = Math.round(monotonicNowMs() - this.lastContactMs);
    if (silentMs <= bound) return;
    const detail = `no answer from zookeeper for ${silentMs} ms (self-fence bound ${bound} ms); the node destroyed its vms`;
    this.selfFenceDetail = detail;
    this.options.log.error({ silentMs, boundMs: bound }, 'self-fence: zookeeper silent too long; destroying this node\'s vms');
    await this.enterFenced([...this.options.knownVms()]);
  }

  private async check(): Promise<void> {
    const { store, layout, node, log } = this.options;
    const record = await store.get(layout.nodeFence(node));
    if (!record) {
      if (this.selfFenceDetail !== null) {
        const fence: Fence = { node, reason: 'self-fence', detail: this.selfFenceDetail, by: node, startedAtMs: Date.now(), steps: [{ step: 'self-fence', result: 'done', detail: this.selfFenceDetail, atMs: Date.now() }], outcome: 'in-progress' };
        try {
          await store.create(layout.nodeFence(node), fence);
          await recordFault(store, layout, { kind: 'self-fence', node, message: `node ${node} fenced itself: ${this.selfFenceDetail}` });
        } catch (error) {
          if (!isZkError(error, 'NODE_EXISTS')) throw error;
        }
        this.selfFenceDetail = null;
        return;
      }
      if (this.fencedMode) {
        log.warn('fence record removed; returning to service');
        this.fencedMode = false;
        await this.options.setVmsFenced(false);
        this.options.onStateChange(false);
      }
      return;
    }
    if (!this.fencedMode) log.warn({ reason: record.value.reason, by: record.value.by }, 'this node is fenced; destroying its vms and staying fenced until `pvc node ready`');
    // Every check while fenced, not only the first: a domain that arrived meanwhile (a migration
    // another node started) must not run here either.
    const names = await readVmNames(store, layout);
    await this.enterFenced([...new Set([...names, ...this.options.knownVms()])]);
    this.selfFenceDetail = null;
    // Confirm to the primary that this node has seen this record and its VMs are gone (once).
    // The primary returns a node to service only after this (fenceSeenByNode): a node that never
    // saw the record would otherwise write its own self-fence record after being returned.
    // Not before the fencer has recorded its power off: the fencer skips the power off of a node
    // that confirmed first (and its power-off write would lose to this one), which left a live
    // node fenced by hand running, powered on. A later check (every FENCE_GUARD_CHECK_MS) confirms.
    await store.update(layout.nodeFence(node), (current): Fence | typeof SKIP => {
      if (!current || fenceSeenByNode(current) || !current.steps.some((s) => s.step === 'power-off')) return SKIP;
      return { ...current, steps: [...current.steps, { step: 'self-fence' as const, result: 'done' as const, detail: `the pvcd of ${node} destroyed the vms on it`, atMs: Date.now() }].slice(-32) };
    });
  }

  /** Stops the VM controller and destroys every running domain of a cluster VM here. */
  private async enterFenced(vmNames: string[]): Promise<void> {
    if (!this.fencedMode) {
      this.fencedMode = true;
      this.options.onStateChange(true);
      await this.options.setVmsFenced(true);
    }
    const driver = this.options.driver;
    if (!driver) return;
    const wanted = new Set(vmNames);
    const domains = await driver.listDomains();
    await Promise.all(
      domains
        .filter((d) => wanted.has(d.name) && d.state !== 'shutoff' && d.state !== 'crashed')
        .map(async (d) => {
          try {
            await driver.destroy(d.name);
            this.options.log.warn({ vm: d.name }, 'fenced: destroyed vm');
          } catch (error) {
            if (!isHypervisorError(error, 'invalid-state') && !isHypervisorError(error, 'not-found')) throw error;
          }
        }),
    );
  }
}
