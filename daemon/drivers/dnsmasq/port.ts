// The DHCP port: one dnsmasq per managed network on the primary, and the lease events they
// report. Two adapters: dnsmasq.ts (real processes, files under the state folder) and sim.ts (in
// memory, with faults); test/contract/dnsmasq.contract.ts holds both to the same behaviour.
//
// Starts are fenced: closeAll() stops every instance and refuses starts until open(), so a
// reconcile pass still in flight when the primary steps down cannot leave a dnsmasq behind.
import { PvcError, type PvcErrorCode } from '../../../common/errors.ts';
import type { DhcpLease } from '../../../common/zk/schema.ts';
import type { DnsmasqPaths } from './render.ts';

export interface DhcpInstanceState {
  network: string;
  /** The config the process was started with. */
  configText: string;
  /** False once the process has exited (it crashed, or something killed it). */
  running: boolean;
  /** The reservation files in its hostsdir: file name -> content. */
  reservations: Map<string, string>;
}

/** One spooled lease event: `id` orders events and names the file to remove once it is recorded. */
export interface SpooledLeaseEvent {
  network: string;
  id: string;
  text: string;
}

export interface DhcpDriver {
  /** Where the instance of `network` keeps its files; the config renders these paths. */
  pathsOf(network: string): DnsmasqPaths;
  /** Allows starts again (a new term as primary). */
  open(): void;
  /** Stops every instance and refuses starts until open(). */
  closeAll(): Promise<void>;
  /** The instances this driver started and has not stopped. */
  instances(): Promise<DhcpInstanceState[]>;
  /**
   * Writes the config and reservation files, and the lease file from `seed` when given (null:
   * keep the lease file of the previous process), then starts dnsmasq, stopping an earlier
   * process of the network first. Resolves once dnsmasq has bound its sockets; fails
   * ('failed', with dnsmasq's own message) when it exits instead.
   */
  start(network: string, configText: string, reservations: ReadonlyMap<string, string>, seed: readonly DhcpLease[] | null): Promise<void>;
  stop(network: string): Promise<void>;
  /**
   * Brings the hostsdir to `reservations`. dnsmasq picks up new files by itself (inotify) but
   * keeps the hosts of changed or removed files until SIGHUP, which this then sends.
   */
  syncReservations(network: string, reservations: ReadonlyMap<string, string>): Promise<'unchanged' | 'added' | 'reloaded'>;
  /** Lease events waiting to be recorded, oldest first per network. */
  pendingEvents(): Promise<SpooledLeaseEvent[]>;
  /** Removes an event once it is recorded (or found worthless). */
  removeEvent(network: string, id: string): Promise<void>;
  /** Calls back when an event may have arrived: a hint, the caller's resync covers lost ones. */
  watchEvents(onEvent: () => void): () => void;
}

/** closed: refused after closeAll(); failed: dnsmasq would not start; timeout: it did not say in time. */
export type DhcpErrorKind = 'closed' | 'failed' | 'timeout' | 'io';

const CODES: Record<DhcpErrorKind, PvcErrorCode> = { closed: 'refused', failed: 'refused', timeout: 'timeout', io: 'refused' };

export class DhcpError extends PvcError {
  constructor(
    readonly kind: DhcpErrorKind,
    readonly network: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(CODES[kind], `dhcp server of network ${JSON.stringify(network)}: ${detail}`, options);
    this.name = 'DhcpError';
  }
}
