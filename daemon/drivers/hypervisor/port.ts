// The hypervisor port: everything pvcd asks of one node's hypervisor. Two adapters implement
// it: virsh.ts (libvirt through virsh) and sim.ts (an in-memory world of several nodes). The
// contract suite (test/contract/hypervisor.contract.ts) holds both to the same behaviour.
//
// Calls report what the hypervisor said; they are not made idempotent here (destroying a
// stopped domain is an 'invalid-state' error), so that executors decide what "already done"
// means with the error's kind in hand.
import { PvcError, type PvcErrorCode } from '../../../common/errors.ts';

/** libvirt's virDomainState, named as virsh prints them (shutdown = being shut down). */
export type DomainState = 'nostate' | 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed' | 'pmsuspended';

export interface DomainRef {
  name: string;
  uuid: string;
}

export interface DomainSummary extends DomainRef {
  state: DomainState;
}

export interface DomainStatus {
  state: DomainState;
  /** Why it is in that state, as virsh words it: booted, migrated, shutdown, destroyed, unknown... */
  reason: string;
}

export interface DomainInfo extends DomainRef {
  state: DomainState;
  vcpus: number;
  maxMemoryKiB: number;
  usedMemoryKiB: number;
  persistent: boolean;
  autostart: boolean;
}

export interface HostInfo {
  cpus: number;
  memoryMiB: number;
  cpuModel: string;
  cpuMhz: number;
}

export interface MigrationTarget {
  /** The destination node's hypervisor URI, as the source's libvirtd reaches it (peer to peer). */
  uri: string;
  /** Where QEMU sends memory, e.g. tcp://127.0.0.1:49152; null lets libvirt choose from migration_host. */
  migrateUri: string | null;
}

export interface MigrateOptions {
  /** Upper bound for the whole migration; on expiry the job is aborted and the domain stays on the source. */
  timeoutMs: number;
  /** QEMU's downtime limit for the final switch-over (its default is 300 ms). */
  maxDowntimeMs?: number;
  /** Domain XML for the destination (e.g. a per-node console log path); from dumpXml(name, { migratable: true }). */
  destinationXml?: string;
}

/** A finished job (e.g. the incoming migration on its destination), from libvirt's job statistics. */
export interface CompletedJob {
  /** libvirt's operation name: 'incoming migration', 'outgoing migration', 'start', ... or 'unknown'. */
  operation: string;
  timeElapsedMs: number;
  /** Time the guest was paused for the switch-over; null for jobs that pause nothing. */
  downtimeMs: number | null;
  dataTotalBytes: number;
  dataProcessedBytes: number;
  memoryIterations: number | null;
}

/**
 * A domain's resource use as libvirt counts it (`domstats`): integers >= 0, totals over all its
 * disks and all its interfaces. A shut-off domain uses nothing: zeros, but its memory size.
 */
export interface DomainStats {
  /** CPU time the domain has used since it started (libvirt's cpu.time, ns -> ms). */
  cpuTimeMs: number;
  /** The domain's current memory (balloon.current, KiB -> MiB, rounded down). */
  memoryMiB: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  netRxBytes: number;
  netTxBytes: number;
}

export interface DumpXmlOptions {
  /** XML fit for defining on another host (no runtime-only parts). */
  migratable?: boolean;
}

/** A cephx key that libvirt hands to QEMU for RBD disks (a `<secret type='ceph'>` in domain XML). */
export interface CephSecret {
  /** The uuid that domain XML names; the same on every node, so a VM's XML is node-independent. */
  uuid: string;
  /** libvirt's usage name, e.g. "client.admin secret". */
  usageName: string;
  /** The key as `ceph auth get-key` prints it (base64). */
  keyBase64: string;
}

const SECRET_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Both adapters refuse the same malformed secrets (the key itself is never put in the message). */
export function assertCephSecret(secret: CephSecret): void {
  if (!SECRET_UUID.test(secret.uuid)) throw new HypervisorError('invalid-xml', 'secret', null, `ceph secret uuid ${JSON.stringify(secret.uuid)} is not a lowercase uuid`);
  if (!BASE64.test(secret.keyBase64)) throw new HypervisorError('invalid-xml', 'secret', null, 'ceph secret key is not base64 text');
}

export interface HypervisorDriver {
  /** Every domain this node knows: running and defined-but-stopped. */
  listDomains(): Promise<DomainSummary[]>;
  domainState(name: string): Promise<DomainStatus>;
  domainInfo(name: string): Promise<DomainInfo>;
  /** Defines (or redefines, same name and uuid) a persistent domain from XML; it stays shut off. */
  define(xml: string): Promise<DomainRef>;
  /** Removes the definition; a running domain keeps running as a transient one until it stops. */
  undefine(name: string): Promise<void>;
  start(name: string): Promise<void>;
  /** Presses the ACPI power button and returns; the guest decides whether and when it powers off. */
  shutdown(name: string): Promise<void>;
  /** Pulls the plug: the domain is shut off when this returns. */
  destroy(name: string): Promise<void>;
  dumpXml(name: string, options?: DumpXmlOptions): Promise<string>;
  /** Live-migrates a running domain; when this returns it runs (persistently) on the target only. */
  migrateLive(name: string, target: MigrationTarget, options: MigrateOptions): Promise<void>;
  /** Statistics of the domain's last completed job on this node, or null when there is none. */
  lastJobInfo(name: string): Promise<CompletedJob | null>;
  /** CPU time, memory and disk / network byte counts of the domain. */
  domainStats(name: string): Promise<DomainStats>;
  hostInfo(): Promise<HostInfo>;
  /** Defines (or redefines) a persistent, private ceph secret and sets its value; idempotent. */
  setCephSecret(secret: CephSecret): Promise<void>;
}

export type HypervisorOperation =
  | 'list'
  | 'state'
  | 'info'
  | 'define'
  | 'undefine'
  | 'start'
  | 'shutdown'
  | 'destroy'
  | 'dump-xml'
  | 'migrate'
  | 'job-info'
  | 'stats'
  | 'host-info'
  | 'secret';

/**
 * What went wrong, as far as the caller can act on it:
 * not-found (no such domain), invalid-state (e.g. start of a running domain), invalid-xml,
 * timeout (the call did not finish in time), unreachable (no connection to the hypervisor),
 * failed (anything else the hypervisor reported).
 */
export type HypervisorErrorKind = 'not-found' | 'invalid-state' | 'invalid-xml' | 'timeout' | 'unreachable' | 'failed';

const ERROR_CODES: Record<HypervisorErrorKind, PvcErrorCode> = {
  'not-found': 'not-found',
  'invalid-state': 'refused',
  'invalid-xml': 'bad-input',
  timeout: 'timeout',
  unreachable: 'unreachable',
  failed: 'refused',
};

export class HypervisorError extends PvcError {
  constructor(
    readonly kind: HypervisorErrorKind,
    readonly operation: HypervisorOperation,
    /** The domain the call was about; null for calls about the node (list, define, host-info). */
    readonly domain: string | null,
    /** What the hypervisor said (virsh's error lines), for logs and the VM's failure reason. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(ERROR_CODES[kind], `${operation}${domain === null ? '' : ` of domain ${JSON.stringify(domain)}`} failed (${kind}): ${detail}`, options);
    this.name = 'HypervisorError';
  }
}

export function isHypervisorError(error: unknown, kind?: HypervisorErrorKind): error is HypervisorError {
  return error instanceof HypervisorError && (kind === undefined || error.kind === kind);
}
