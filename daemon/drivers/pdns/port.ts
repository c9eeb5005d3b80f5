// The DNS port: PowerDNS Authoritative on the primary, its zones managed through its HTTP API.
// Two adapters: pdns.ts (pdns_server + the API) and sim.ts (in memory, with faults);
// test/contract/pdns.contract.ts holds both to the same behaviour.
//
// Like the DHCP port, starts are fenced: closeAll() stops the server and refuses starts until
// open(), so a pass still in flight when the primary steps down cannot leave it running.
import { PvcError, type PvcErrorCode } from '../../../common/errors.ts';

export const DNS_RECORD_TYPES = ['A', 'AAAA', 'PTR', 'NS'] as const;
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

/** One record set: a name, a type and its records (the unit PowerDNS's API replaces). */
export interface RecordSet {
  /** Fully qualified, lowercase, with the trailing dot. */
  name: string;
  /** One of DNS_RECORD_TYPES for sets pvc manages; whatever else a server holds (SOA) is read too. */
  type: string;
  ttlS: number;
  /** Record contents, sorted. */
  records: string[];
}

export interface Zone {
  /** With the trailing dot. */
  name: string;
  rrsets: RecordSet[];
}

export interface DnsDriver {
  open(): void;
  closeAll(): Promise<void>;
  /** Starts PowerDNS unless it runs; resolves once its API answers. */
  ensureRunning(): Promise<'started' | 'running'>;
  /** Every zone the server holds, with the record sets pvc manages (A, AAAA, PTR, NS) and any others. */
  listZones(): Promise<Zone[]>;
  createZone(zone: Zone): Promise<void>;
  /** Replaces whole record sets and deletes others, in one request. */
  patchZone(name: string, replace: readonly RecordSet[], remove: ReadonlyArray<{ name: string; type: string }>): Promise<void>;
  deleteZone(name: string): Promise<void>;
}

/** closed: refused after closeAll(); failed: the server would not start; api: an API call was refused; timeout. */
export type DnsErrorKind = 'closed' | 'failed' | 'api' | 'timeout';

const CODES: Record<DnsErrorKind, PvcErrorCode> = { closed: 'refused', failed: 'refused', api: 'refused', timeout: 'timeout' };

export class DnsError extends PvcError {
  constructor(
    readonly kind: DnsErrorKind,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(CODES[kind], `dns server: ${detail}`, options);
    this.name = 'DnsError';
  }
}
