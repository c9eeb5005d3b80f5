// Fencing, a primary runnable: finds dead nodes (reconcile/dead-node-plan.ts), fences them one at
// a time (reconcile/fence-plan.ts: IPMI power off confirmed by reading the power state back, Ceph
// blocklist, then the release of the node's VMs to other nodes), and logs each fence as a fault
// until acknowledged. Every step's result is written to the node's fence record (compare-and-set)
// before the next step, so a primary that dies half-way is replaced by one that carries on.
//
// Liveness is polled every checkIntervalMs (a stale keepalive can only be seen by looking), and
// watches on the nodes' alive ephemerals and fence records ask for a pass at once.
import type { Logger } from 'pino';
import { ensureHaDirs, fenceSeenByNode, recordFault } from '../../common/client/ha.ts';
import { readAllNodeFacts } from '../../common/client/read.ts';
import { readAllVmFacts } from '../../common/client/vm-read.ts';
import { setNodeDomainState } from '../../common/client/node-domain.ts';
import { errorMessage } from '../../common/errors.ts';
import type { Fence, FenceStep, FenceStepResult, ZkLayout } from '../../common/zk/schema.ts';
import { isZkError, type Versioned, type ZkStore } from '../../common/zk/store.ts';
import type { HaConfig } from '../ha-config.ts';
import type { IpmiDriver } from '../drivers/ipmi/port.ts';
import { findDeadNodes, trackKeepalives, type KeepaliveTracker, type NodeObservation } from '../reconcile/dead-node-plan.ts';
import { planFence, publishedSelfFenceBound, type PublishedSelfFenceBound } from '../reconcile/fence-plan.ts';
import { monotonicNowMs } from '../runtime/primary-lease.ts';
import { Reconciler } from '../runtime/reconciler.ts';
import { releaseVms } from './fence-recovery.ts';
import { readBmcTarget } from './bmc-target.ts';
import { blocklistStep, powerOffStep, type FenceStorage, type StepOutcome } from './fence-steps.ts';
import type { PrimaryContext, Runnable } from './runnables.ts';

const RETRY_DELAY_MS = 500;
/** A fence has at most six steps; more in one pass means records keep changing under us. */
const MAX_FENCE_ACTIONS_PER_PASS = 12;

export interface FencingDeps {
  store: ZkStore;
  layout: ZkLayout;
  ha: HaConfig;
  ipmi: IpmiDriver;
  ceph: FenceStorage | null;
}

/**
 * One term as primary. A pass that outlives its term (stopping timed out while it waited on a
 * BMC) must not act in the next term, nor beside that term's passes: each pass checks that its
 * own term is still active, and passes never overlap, whichever term started them.
 */
interface Term {
  context: PrimaryContext;
  active: boolean;
}

export class FencingRunnable implements Runnable {
  readonly name = 'fencing';
  private reconciler: Reconciler | null = null;
  private term: Term | null = null;
  /** The term of the pass now running (set only while one runs). */
  private passTerm: Term | null = null;
  private tracker: KeepaliveTracker = new Map();
  private unwatch: Array<() => void> = [];
  private readonly watchedNodes = new Set<string>();
  private wakeTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: FencingDeps) {}

  async start(context: PrimaryContext): Promise<void> {
    const { store, layout, ha } = this.deps;
    this.term = { context, active: true };
    this.tracker = new Map();
    await ensureHaDirs(store, layout);
    const reconciler = new Reconciler(() => this.pass(), { name: 'fencing', resyncIntervalMs: ha.checkIntervalMs, retryDelayMs: RETRY_DELAY_MS, log: context.log });
    this.reconciler = reconciler;
    this.unwatch = [store.watch(layout.nodesDir(), 'children', () => void this.watchNodes())];
    await this.watchNodes();
    reconciler.start();
  }

  async stop(): Promise<void> {
    for (const unwatch of this.unwatch.splice(0)) unwatch();
    this.watchedNodes.clear();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    if (this.term) this.term.active = false;
    this.term = null;
    await this.reconciler?.stop();
    this.reconciler = null;
  }

  /** True while the running pass's term may act as primary. */
  private mayAct(): boolean {
    const term = this.passTerm;
    return term !== null && term.active && term.context.stillPrimary();
  }

  private async watchNodes(): Promise<void> {
    const { store, layout } = this.deps;
    const trigger = (): void => this.reconciler?.trigger();
    try {
      for (const name of await store.children(layout.nodesDir())) {
        if (this.watchedNodes.has(name)) continue;
        this.watchedNodes.add(name);
        this.unwatch.push(store.watch(layout.nodeAlive(name), 'exists', trigger), store.watch(layout.nodeFence(name), 'exists', trigger));
      }
    } catch {
      // The periodic pass covers what a failed listing missed.
    }
    trigger();
  }

  private get log(): Logger {
    return (this.passTerm as Term).context.log;
  }

  private async pass(): Promise<void> {
    const term = this.term;
    // An older term's pass still running: the resync brings this term's pass round again.
    if (!term || this.passTerm !== null) return;
    this.passTerm = term;
    try {
      await this.passOf(term.context);
    } finally {
      this.passTerm = null;
    }
  }

  private async passOf(context: PrimaryContext): Promise<void> {
    if (!this.mayAct()) return;
    const { store, layout, ha } = this.deps;
    const [nodes, maintenance] = await Promise.all([readAllNodeFacts(store, layout), store.get(layout.maintenance())]);
    const fences = new Map<string, Versioned<Fence>>();
    await Promise.all(nodes.map(async (n) => {
      const fence = await store.get(layout.nodeFence(n.spec.name));
      if (fence) fences.set(n.spec.name, fence);
    }));
    const observations: NodeObservation[] = nodes.map((n) => ({ node: n.spec.name, alive: n.alive, reportedState: n.status?.daemonState ?? null, keepaliveSeq: n.status?.keepaliveSeq ?? null, pid: n.status?.pid ?? null, fenced: fences.has(n.spec.name), aliveSession: n.aliveSession ?? null }));
    const now = monotonicNowMs();
    this.tracker = trackKeepalives(this.tracker, observations, now);

    // One fence at a time: finish the oldest one under way before starting another.
    const open = [...fences.values()].filter((f) => f.value.outcome !== 'fenced').sort((a, b) => a.value.startedAtMs - b.value.startedAtMs);
    // The dead node's last status says whether (and when) it destroys its own guests.
    const boundOf = (node: string): PublishedSelfFenceBound => publishedSelfFenceBound(nodes.find((n) => n.spec.name === node)?.status ?? null);
    for (const fence of open) {
      if (await this.advance(fence, boundOf(fence.value.node))) return;
    }
    await this.returnBootedNodes(nodes.filter((n) => n.alive && n.status?.daemonState === 'fenced').map((n) => n.spec.name), fences);
    if (maintenance?.value.on) return;
    const dead = findDeadNodes(observations, this.tracker, now, { keepaliveStaleMs: ha.keepaliveStaleMs }, context.node);
    const first = dead[0];
    if (!first || !this.mayAct()) return;
    const fence: Fence = { node: first.node, reason: first.reason, detail: first.detail, by: context.node, startedAtMs: Date.now(), steps: [], outcome: 'in-progress' };
    try {
      await store.create(layout.nodeFence(first.node), fence);
    } catch (error) {
      if (isZkError(error, 'NODE_EXISTS')) return this.reconciler?.trigger();
      throw error;
    }
    this.log.warn({ node: first.node, reason: first.reason, detail: first.detail }, 'node is dead; fencing it');
    await recordFault(store, layout, { kind: 'fence', node: first.node, message: `node ${first.node} is dead (${first.reason}): ${first.detail}; fencing it` });
    const created = await store.get(layout.nodeFence(first.node));
    if (created) await this.advance(created, boundOf(first.node));
  }

  /** Applies the fence's next steps; true while the fence still needs this primary's attention. */
  private async advance(start: Versioned<Fence>, nodeSelfFenceBoundMs: PublishedSelfFenceBound): Promise<boolean> {
    const { store, layout, ha } = this.deps;
    const node = start.value.node;
    let fence: Versioned<Fence> | null = start;
    for (let i = 0; i < MAX_FENCE_ACTIONS_PER_PASS && fence; i += 1) {
      if (!this.mayAct()) return true;
      const now = monotonicNowMs();
      const lastSignMs = this.tracker.get(node)?.sinceMs ?? now;
      const action = planFence({ fence: fence.value, policy: ha.fenceFailurePolicy, nowMs: now, lastSignMs, nodeSelfFenceBoundMs });
      switch (action.kind) {
        case 'settled':
          return false;
        case 'wait-self-fence':
          this.wakeAt(action.untilMs);
          return true;
        case 'power-off': {
          const read = await readBmcTarget(store, layout, node);
          if (read.kind === 'unusable') {
            this.log.warn({ node, err: read.detail }, 'fence: cannot power the node off');
            fence = await this.append(fence, 'power-off', { result: 'failed', detail: read.detail });
            break;
          }
          const bmc = read.kind === 'found' ? read.bmc : null;
          this.log.info({ node, bmc: bmc ? `${bmc.host}:${bmc.port}` : null }, 'fence: powering the node off');
          fence = await this.append(fence, 'power-off', await powerOffStep(this.deps.ipmi, bmc, ha.powerOffConfirmMs, this.log, () => this.mayAct()));
          break;
        }
        case 'blocklist':
          fence = await this.append(fence, 'blocklist', await this.blocklist(node));
          break;
        case 'record':
          fence = await this.append(fence, action.step, { result: 'done', detail: action.detail });
          break;
        case 'release-vms':
          fence = await this.append(fence, 'release-vms', await this.release(node));
          break;
        case 'finish':
          fence = await this.finish(fence, action.outcome, action.detail);
          break;
        default: {
          const unknown: never = action;
          throw new Error(`unhandled fence action ${JSON.stringify(unknown)}`);
        }
      }
    }
    return true;
  }

  private async blocklist(node: string): Promise<StepOutcome> {
    const { store, layout, ha } = this.deps;
    const [vms, status] = await Promise.all([readAllVmFacts(store, layout), store.get(layout.nodeStatus(node))]);
    const held = vms.filter((vm) => vm.status?.node === node || vm.spec.value.node === node).map((vm) => ({ spec: vm.spec.value, status: vm.status }));
    return blocklistStep(this.deps.ceph, { node, vms: held, reported: status?.value.cephClientAddresses ?? [], expireS: ha.blocklistExpireS }, this.log);
  }

  private async release(node: string): Promise<StepOutcome> {
    const { store, layout } = this.deps;
    const fenced = new Set<string>();
    for (const name of await store.children(layout.nodesDir())) if (await store.stat(layout.nodeFence(name))) fenced.add(name);
    const result = await releaseVms(store, layout, node, fenced, () => this.mayAct(), this.log);
    const parts = [
      `${result.restarted.length} vm(s) restarted elsewhere${result.restarted.length ? `: ${result.restarted.map((r) => `${r.vm} on ${r.node}`).join(', ')}` : ''}`,
      ...(result.unplaced.length ? [`${result.unplaced.length} could not be placed: ${result.unplaced.map((u) => `${u.vm} (${u.reason})`).join(', ')}`] : []),
      ...(result.released.length ? [`${result.released.length} let go: ${result.released.join(', ')}`] : []),
    ];
    this.log.info({ node, restarted: result.restarted.length, unplaced: result.unplaced.length }, 'fence: released the vms of the node');
    if (result.unplaced.length) await recordFault(store, layout, { kind: 'unplaceable', node, message: `after the fence of node ${node}: ${parts[1]}` });
    return { result: 'done', detail: parts.join('; ').slice(0, 1_000) };
  }

  private async finish(fence: Versioned<Fence>, outcome: 'fenced' | 'vms-left-down', detail: string): Promise<Versioned<Fence> | null> {
    const { store, layout } = this.deps;
    const node = fence.value.node;
    if (!this.mayAct()) return null;
    // The fault first: a primary that dies in between logs it twice, never not at all.
    const steps = fence.value.steps.map((s) => `${s.step} ${s.result}: ${s.detail}`).join('; ');
    if (outcome === 'fenced') {
      this.log.warn({ node }, 'node fenced and its vms released');
      await recordFault(store, layout, { kind: 'recovery', node, message: `node ${node} fenced (${fence.value.reason}): ${detail}. ${steps}` });
    } else {
      this.log.error({ node, detail }, 'fence not confirmed; the vms of the node stay down');
      await recordFault(store, layout, { kind: 'fence-failed', node, message: `node ${node} could not be fenced (${fence.value.reason}): ${detail}. ${steps}` });
    }
    return this.write(fence, { ...fence.value, outcome });
  }

  private append(fence: Versioned<Fence>, step: FenceStep, outcome: { result: FenceStepResult; detail: string }): Promise<Versioned<Fence> | null> {
    this.log.info({ node: fence.value.node, step, ...outcome }, 'fence step');
    return this.write(fence, { ...fence.value, steps: [...fence.value.steps, { step, ...outcome, detail: outcome.detail.slice(0, 1_000), atMs: Date.now() }].slice(-32) });
  }

  /** Compare-and-set; on a conflict (the node wrote its self-fence, a client returned it) re-read. */
  private async write(fence: Versioned<Fence>, next: Fence): Promise<Versioned<Fence> | null> {
    const { store, layout } = this.deps;
    if (!this.mayAct()) return null;
    const ref = layout.nodeFence(fence.value.node);
    try {
      const version = await store.set(ref, next, fence.version);
      return { value: next, version };
    } catch (error) {
      if (isZkError(error, 'BAD_VERSION') || isZkError(error, 'NO_NODE')) return store.get(ref);
      throw error;
    }
  }

  /** autoReturn: a fenced node whose pvcd runs again (and reports fenced) returns to service. */
  private async returnBootedNodes(booted: string[], fences: Map<string, Versioned<Fence>>): Promise<void> {
    if (!this.deps.ha.autoReturn) return;
    const { store, layout } = this.deps;
    for (const node of booted) {
      const fence = fences.get(node);
      // Not before the node has seen the record (fenceSeenByNode): its next check confirms it.
      if (!fence || fence.value.outcome === 'in-progress' || !fenceSeenByNode(fence.value) || !this.mayAct()) continue;
      try {
        await store.remove(layout.nodeFence(node), fence.version);
        await setNodeDomainState(store, layout, node, 'ready', { waitMs: 0 });
        this.log.info({ node }, 'fenced node booted again; returned it to service (autoReturn)');
        await recordFault(store, layout, { kind: 'recovery', node, message: `node ${node} booted after its fence and was returned to service (ha.autoReturn)` });
      } catch (error) {
        this.log.warn({ node, err: errorMessage(error) }, 'could not return the fenced node');
      }
    }
  }

  private wakeAt(untilMs: number): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.reconciler?.trigger();
    }, Math.max(0, untilMs - monotonicNowMs()) + 10);
  }
}
