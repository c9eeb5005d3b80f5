// The outside-world steps of a fence, as the fencing runnable applies them: the IPMI power off
// (confirmed by reading the power state back) and the Ceph blocklist of the client addresses
// that hold the node's VMs' RBD volumes open. Each returns the result to record; none throws
// for an operating error (a dead BMC is a result, not a crash).
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.ts';
import type { FenceStepResult, VmSpec, VmStatus } from '../../common/zk/schema.ts';
import type { CephDriver } from '../drivers/ceph/port.ts';
import { bmcLabel, type BmcTarget, type IpmiDriver } from '../drivers/ipmi/port.ts';

/** Power-off attempts before the step is recorded failed (a lost UDP packet must not fail a fence). */
export const POWER_OFF_ATTEMPTS = 3;
/** Between reads of the power state while waiting for off. */
const POWER_POLL_MS = 200;

/** What the fencer needs of Ceph: who holds a volume open, and the blocklist. */
export type FenceStorage = Pick<CephDriver, 'blocklistAdd' | 'listWatchers' | 'listLocks'>;

export interface StepOutcome {
  result: FenceStepResult;
  detail: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `mayAct` is asked before each attempt: a fencer that is no longer primary sends no more power offs. */
export async function powerOffStep(ipmi: IpmiDriver, bmc: BmcTarget | null, confirmMs: number, log: Logger, mayAct: () => boolean = () => true): Promise<StepOutcome> {
  if (!bmc) return { result: 'skipped', detail: 'the node has no bmc configured' };
  const label = bmcLabel(bmc);
  let lastError = '';
  for (let attempt = 1; attempt <= POWER_OFF_ATTEMPTS && mayAct(); attempt += 1) {
    try {
      await ipmi.powerOff(bmc);
      const deadline = performance.now() + confirmMs;
      for (;;) {
        const state = await ipmi.powerStatus(bmc);
        if (state === 'off') return { result: 'done', detail: `bmc ${label} reports power off (attempt ${attempt})` };
        if (performance.now() >= deadline) {
          lastError = `bmc ${label} accepted the power off but still reports power on after ${confirmMs} ms`;
          break;
        }
        await sleep(POWER_POLL_MS);
      }
    } catch (error) {
      lastError = errorMessage(error);
    }
    log.warn({ bmc: label, attempt, err: lastError }, 'fence: power off not confirmed');
  }
  return { result: 'failed', detail: `${lastError} (after ${POWER_OFF_ATTEMPTS} attempts)`.slice(0, 1_000) };
}

export interface BlocklistInput {
  node: string;
  /** The node's VMs as last reported (status.node is the node) with their specs. */
  vms: ReadonlyArray<{ spec: VmSpec; status: VmStatus | null }>;
  /** Addresses the node itself reported (NodeStatus.cephClientAddresses). */
  reported: readonly string[];
  expireS: number;
}

/**
 * Blocklists every client address that holds an RBD volume of the node's VMs open (watchers and
 * lock holders), plus the ones the node reported. With no Ceph configured on this primary the
 * step is skipped: then no VM can have an RBD disk the primary knows how to reach.
 */
export async function blocklistStep(ceph: FenceStorage | null, input: BlocklistInput, log: Logger): Promise<StepOutcome> {
  const volumes = input.vms.flatMap(({ spec }) => spec.disks.flatMap((d) => (d.source.type === 'rbd' ? [{ pool: d.source.pool, image: d.source.image }] : [])));
  if (!ceph) {
    return volumes.length === 0 && input.reported.length === 0
      ? { result: 'skipped', detail: 'no ceph configured on the primary and no rbd volume to fence' }
      : { result: 'failed', detail: `no ceph configured on the primary, but the node holds ${volumes.length} rbd volume(s) and reported ${input.reported.length} client address(es)` };
  }
  const addresses = new Set(input.reported);
  try {
    for (const { pool, image } of volumes) {
      const [watchers, locks] = await Promise.all([ceph.listWatchers(pool, image), ceph.listLocks(pool, image)]);
      for (const w of watchers) addresses.add(w.address);
      for (const l of locks) addresses.add(l.address);
    }
    for (const address of addresses) await ceph.blocklistAdd(address, input.expireS);
  } catch (error) {
    log.warn({ node: input.node, err: errorMessage(error) }, 'fence: blocklist failed');
    return { result: 'failed', detail: `ceph blocklist failed: ${errorMessage(error)}`.slice(0, 1_000) };
  }
  if (addresses.size === 0) return { result: 'done', detail: `no client holds the ${volumes.length} rbd volume(s) of the node's vms open; nothing to blocklist` };
  return { result: 'done', detail: `blocklisted ${[...addresses].sort().join(', ')} for ${input.expireS} s`.slice(0, 1_000) };
}
