// The pvcd config sections of high availability: `bmc` (this node's BMC, published to ZooKeeper
// for the primary's fencer) and `ha` (how the primary detects and fences dead nodes, and how
// this node fences itself). Part of daemon/config.ts, kept apart for size. Every coordinator
// should carry the same `ha` section: whichever is primary applies its own.
import { z } from 'zod';
import { PvcError } from '../common/errors.ts';
import { FENCE_FAILURE_POLICIES } from './reconcile/fence-plan.ts';

const ms = (min: number, max: number, fallback: number) => z.number().int().min(min).max(max).default(fallback);

export const BmcConfigDoc = z
  .strictObject({
    host: z.string().regex(/^[A-Za-z0-9.:_-]{1,253}$/, 'must be a host name or an ip address'),
    port: z.number().int().min(1).max(65_535).default(623),
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(128).optional(),
    passwordFile: z.string().min(1).optional(),
  })
  .refine((bmc) => (bmc.password === undefined) !== (bmc.passwordFile === undefined), 'set exactly one of password and passwordFile');
export type BmcConfig = z.infer<typeof BmcConfigDoc>;

export const SELF_FENCE_MODES = ['auto', 'on', 'off'] as const;

export const HaConfigDoc = z
  .strictObject({
    /** A node whose keepalive sequence has not moved this long (on the primary's clock) is dead. */
    keepaliveStaleMs: ms(500, 600_000, 5_000),
    /** What the primary does when the BMC fails, cannot be reached, or the node has none. */
    fenceFailurePolicy: z.enum(FENCE_FAILURE_POLICIES).default('leave-down'),
    /** A fenced node that boots again returns to service by itself (else: `pvc node ready`). */
    autoReturn: z.boolean().default(false),
    /** How often the primary looks at every node's liveness. */
    checkIntervalMs: ms(50, 60_000, 250),
    /** One ipmitool call. */
    ipmiTimeoutMs: ms(500, 60_000, 5_000),
    /** After a power off, how long the BMC may take to report the power off. */
    powerOffConfirmMs: ms(500, 120_000, 5_000),
    /** How long a Ceph blocklist entry lasts (seconds); the node's VMs restart with new client addresses. */
    blocklistExpireS: z.number().int().min(60).max(31_536_000).default(86_400),
    selfFence: z
      .strictObject({
        /** auto: on when this node has no `bmc` section. */
        mode: z.enum(SELF_FENCE_MODES).default('auto'),
        /**
         * Out of touch with ZooKeeper this long, this node destroys its own VMs. The node
         * publishes its effective bound (NodeStatus.selfFenceBoundMs), and the primary waits
         * that (plus a margin) past the node's last sign of life before recovering without a
         * confirmed power off: nodes may differ.
         */
        afterMs: ms(500, 600_000, 4_000),
      })
      .prefault({}),
  })
  .prefault({});
export type HaConfig = z.infer<typeof HaConfigDoc>;

/**
 * A node that fences itself must hear from ZooKeeper well within the bound in normal running:
 * its keepalive is the proof of contact, so at least two keepalives must fit in the bound.
 */
export function checkSelfFenceBound(config: { ha: HaConfig; timeouts: { keepaliveIntervalMs: number }; bmc?: unknown; hypervisor?: unknown }, source: string): void {
  const { afterMs, mode } = config.ha.selfFence;
  const active = config.hypervisor !== undefined && (mode === 'on' || (mode === 'auto' && config.bmc === undefined));
  if (active && config.timeouts.keepaliveIntervalMs * 2 > afterMs) {
    throw new PvcError('bad-input', `invalid pvcd config ${source}: ha.selfFence.afterMs ${afterMs} must be at least twice timeouts.keepaliveIntervalMs (${config.timeouts.keepaliveIntervalMs}), or a healthy node would fence itself`);
  }
}
