// The check pvcd makes before it starts a VM with RBD disks (see reconcile/rbd-access-plan.ts for
// the rule): it reads who holds each volume from Ceph and, when someone does, every node's
// published Ceph client IP, liveness and fencing from ZooKeeper; asks the planner, and carries
// out what it decides — blocklisting stale clients before it removes their locks, never the
// other way round.
import type { Logger } from 'pino';
import { PvcError } from '../../common/errors.ts';
import { readAllNodeFacts } from '../../common/client/read.ts';
import type { VmSpec, VmStatus, ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import type { CephDriver } from '../drivers/ceph/port.ts';
import { planRbdAccess, type ClusterNode, type VolumeHolders } from '../reconcile/rbd-access-plan.ts';
import { monotonicNowMs } from './primary-lease.ts';

/** Longer than Ceph's watch timeout (30 s), after which a killed QEMU's watch is gone by itself. */
export const RBD_HOLDER_WAIT_LIMIT_MS = 45_000;
/**
 * How long Ceph refuses a blocklisted client. An address carries a per-process nonce and never
 * comes back, so a long entry costs nothing; a short one could let a frozen QEMU write again.
 */
export const RBD_BLOCKLIST_EXPIRE_S = 7 * 24 * 3600;

export type RbdAccess = 'open' | 'wait';

export interface RbdGuardOptions {
  ceph: CephDriver;
  store: ZkStore;
  layout: ZkLayout;
  node: string;
  log: Logger;
  waitLimitMs?: number;
}

export class RbdGuard {
  /** When this node first found each VM's volumes held by a live node (monotonic ms). */
  private readonly waitingSince = new Map<string, number>();

  constructor(private readonly options: RbdGuardOptions) {}

  /** 'open' when the VM may start now; 'wait' to look again later; throws (refused) when it must not. */
  async ensureAccess(spec: VmSpec, status: VmStatus | null): Promise<RbdAccess> {
    const disks = spec.disks.flatMap((disk) => (disk.source.type === 'rbd' ? [disk.source] : []));
    if (disks.length === 0) return 'open';
    const { ceph, node, log } = this.options;
    const volumes: VolumeHolders[] = await Promise.all(
      disks.map(async ({ pool, image }) => ({ pool, image, watchers: await ceph.listWatchers(pool, image), locks: await ceph.listLocks(pool, image) })),
    );
    const held = volumes.some((v) => v.watchers.length > 0 || v.locks.length > 0);
    const blocklisted = held ? new Set((await ceph.blocklistList()).map((entry) => entry.address)) : new Set<string>();
    // Where the domain last ran (statuses from before `ranOn` existed: the reporting node).
    const lastNode = status ? (status.ranOn !== undefined ? status.ranOn : status.node) : null;
    const nodes: ClusterNode[] = held ? await this.clusterNodes() : [];
    const now = monotonicNowMs();
    const decision = planRbdAccess({
      me: node,
      vm: spec.name,
      volumes,
      blocklisted,
      lastNode,
      nodes,
      waitedMs: now - (this.waitingSince.get(spec.name) ?? now),
      waitLimitMs: this.options.waitLimitMs ?? RBD_HOLDER_WAIT_LIMIT_MS,
    });
    switch (decision.kind) {
      case 'wait':
        if (!this.waitingSince.has(spec.name)) this.waitingSince.set(spec.name, now);
        log.info({ vm: spec.name, reason: decision.reason }, 'waiting for rbd volumes to be let go');
        return 'wait';
      case 'refuse':
        this.waitingSince.delete(spec.name);
        throw new PvcError('refused', decision.reason);
      case 'open':
        this.waitingSince.delete(spec.name);
        for (const { address, node: holderNode } of decision.blocklist) {
          log.warn({ vm: spec.name, address, holderNode, lastNode }, 'blocklisting a stale rbd client before taking its volumes');
          await ceph.blocklistAdd(address, RBD_BLOCKLIST_EXPIRE_S);
        }
        for (const { pool, image, lock } of decision.removeLocks) {
          log.warn({ vm: spec.name, volume: `${pool}/${image}`, locker: lock.locker, address: lock.address }, 'removing a stale rbd lock');
          await ceph.removeLock(pool, image, lock);
        }
        return 'open';
      default: {
        const unknown: never = decision;
        throw new Error(`unhandled rbd access decision ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Every registered node: the IP its Ceph clients use, its session, its fencing. */
  private async clusterNodes(): Promise<ClusterNode[]> {
    const facts = await readAllNodeFacts(this.options.store, this.options.layout);
    return facts.map(({ spec, status, alive, fence }) => ({
      name: spec.name,
      cephClientIp: status?.cephClientIp ?? null,
      alive,
      // NodeFacts.fence is optional: absent, like null, means no fence record.
      fenced: (fence ?? null) !== null || status?.daemonState === 'fenced',
    }));
  }
}
