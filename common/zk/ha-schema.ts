// The codecs of high availability: each node's BMC (address and credentials), the fence record
// of a node the primary (or the node itself) fenced, the cluster's maintenance flag and its log
// of faults. Part of the schema module: schema.ts builds the paths and re-exports these.
import { z } from 'zod';
import { NAME_PATTERN, NAME_RULE } from '../names.ts';

const name = z.string().regex(NAME_PATTERN, NAME_RULE);
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const plain = (max: number) => z.string().min(1).max(max).refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');

/** A host name or an IPv4/IPv6 address as ipmitool's -H takes it. */
const BMC_HOST = /^[A-Za-z0-9.:_-]{1,253}$/;

/**
 * How the primary reaches a node's BMC, without the password: readable by every client (`pvc
 * node info` may show it). `password` is only ever found in documents written before the
 * password moved to BmcSecretDoc; the node's pvcd rewrites such a document without it at start.
 */
export const BmcDoc = z.strictObject({
  host: z.string().regex(BMC_HOST, 'must be a host name or an ip address'),
  port: z.number().int().min(1).max(65_535),
  username: plain(64),
  password: plain(128).optional(),
});
export type BmcPublic = z.infer<typeof BmcDoc>;

/**
 * The BMC password, in its own znode so that it can carry the daemon-only ACL (docs/zk-schema.md
 * "ACLs"); never shown by a client, never logged.
 */
export const BmcSecretDoc = z.strictObject({
  password: plain(128),
});
export type BmcSecret = z.infer<typeof BmcSecretDoc>;

/** The whole BMC as pvcd holds it in memory (from its config, or both znodes read by the fencer). */
export type Bmc = Omit<BmcPublic, 'password'> & BmcSecret;

/** Why a node was fenced. */
export const FENCE_REASONS = [
  /** Its pvcd's ZooKeeper session ended (alive ephemeral gone) without a clean stop. */
  'session-lost',
  /** Its session lives but its keepalive stopped advancing (a wedged daemon). */
  'keepalive-stale',
  /** `pvc node fence`. */
  'manual',
  /** The node lost ZooKeeper for too long and destroyed its own VMs. */
  'self-fence',
] as const;
export type FenceReason = (typeof FENCE_REASONS)[number];

export const FENCE_STEPS = ['power-off', 'blocklist', 'self-fence', 'wait-self-fence', 'release-vms'] as const;
export type FenceStep = (typeof FENCE_STEPS)[number];

export const FENCE_STEP_RESULTS = ['done', 'failed', 'skipped'] as const;
export type FenceStepResult = (typeof FENCE_STEP_RESULTS)[number];

export const FENCE_OUTCOMES = [
  'in-progress',
  /** The node is fenced and its VMs were released for recovery. */
  'fenced',
  /** The fence could not be confirmed; by policy the node's VMs were left down (a fault says so). */
  'vms-left-down',
] as const;
export type FenceOutcome = (typeof FENCE_OUTCOMES)[number];

export const FENCE_DETAIL_MAX_CHARS = 1_000;
/** A fence has at most one result per step, plus retries of the power off. */
export const FENCE_MAX_STEPS = 32;

export const FenceStepDoc = z.strictObject({
  step: z.enum(FENCE_STEPS),
  result: z.enum(FENCE_STEP_RESULTS),
  detail: z.string().max(FENCE_DETAIL_MAX_CHARS),
  /** Wall clock of the writer; shown to people only. */
  atMs: z.number().int().nonnegative(),
});
export type FenceStepRecord = z.infer<typeof FenceStepDoc>;

/**
 * Present while a node is fenced (or being fenced): why, by whom, and each step's result. The
 * primary writes it step by step (compare-and-set), so a new primary finishes a half-done fence;
 * the node's own pvcd reads it and stays in daemon state `fenced` while it exists. `pvc node
 * ready` removes it.
 */
export const FenceDoc = z.strictObject({
  node: name,
  reason: z.enum(FENCE_REASONS),
  /** For people: what was seen (e.g. "keepalive 41 unchanged for 5012 ms"). */
  detail: z.string().max(FENCE_DETAIL_MAX_CHARS),
  /** The node that started the fence (the primary, or the node itself for a self-fence); null: a client (`pvc node fence`). */
  by: name.nullable(),
  startedAtMs: z.number().int().nonnegative(),
  steps: z.array(FenceStepDoc).max(FENCE_MAX_STEPS),
  outcome: z.enum(FENCE_OUTCOMES),
});
export type Fence = z.infer<typeof FenceDoc>;

/** While on, the primary starts no fence (a fence under way is finished). */
export const MaintenanceDoc = z.strictObject({
  on: z.boolean(),
  changedAtMs: z.number().int().nonnegative(),
});
export type Maintenance = z.infer<typeof MaintenanceDoc>;

export const FAULT_KINDS = ['fence', 'fence-failed', 'recovery', 'unplaceable', 'self-fence'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const FAULT_MESSAGE_MAX_CHARS = 2_000;
/** Faults kept; past it the oldest acknowledged ones are removed when a new one is written. */
export const FAULTS_MAX = 500;

/** One entry of the cluster's fault log, shown by `pvc cluster status` until acknowledged. */
export const FaultDoc = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  node: name.nullable(),
  message: z.string().min(1).max(FAULT_MESSAGE_MAX_CHARS),
  atMs: z.number().int().nonnegative(),
  ackedAtMs: z.number().int().nonnegative().nullable(),
});
export type Fault = z.infer<typeof FaultDoc>;
