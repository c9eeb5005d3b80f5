// Pure parsers of virsh 9.0 output (no IO), tested on output captured on the test machine
// (test/unit/fixtures/virsh/). Where virsh has a machine-readable form (domstats key=value,
// domjobinfo --rawstats) the adapter asks for it and these parse that; the rest are the stable
// "Key: value" and one-item-per-line listings.
import type { CompletedJob, DomainInfo, DomainRef, DomainState, DomainStats, DomainStatus, HostInfo, HypervisorErrorKind } from './port.ts';

export class VirshParseError extends Error {
  constructor(what: string, output: string) {
    super(`cannot parse virsh ${what} output: ${JSON.stringify(output.slice(0, 300))}`);
    this.name = 'VirshParseError';
  }
}

/** libvirt's virDomainState numbers, as in `domstats --state` (state.state=N). */
const STATE_BY_NUMBER: readonly DomainState[] = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'];

/** The words `domstate` and `dominfo` print for each state. */
const STATE_BY_WORDS: Readonly<Record<string, DomainState>> = {
  'no state': 'nostate',
  running: 'running',
  idle: 'blocked',
  paused: 'paused',
  'in shutdown': 'shutdown',
  'shut off': 'shutoff',
  crashed: 'crashed',
  pmsuspended: 'pmsuspended',
};

/** virDomainJobOperation numbers (domjobinfo --rawstats `operation: N`). */
const JOB_OPERATIONS: readonly string[] = [
  'unknown',
  'start',
  'save',
  'restore',
  'incoming migration',
  'outgoing migration',
  'snapshot',
  'snapshot revert',
  'dump',
  'backup',
  'snapshot delete',
];

/** `virsh list --all --uuid --name`: "UUID NAME" per line (a name may hold spaces). */
export function parseListUuidName(stdout: string): DomainRef[] {
  return lines(stdout).map((line) => {
    const match = /^([0-9a-f-]{36})\s+(.+)$/.exec(line);
    if (!match?.[1] || !match[2]) throw new VirshParseError('list --uuid --name', stdout);
    return { uuid: match[1], name: match[2] };
  });
}

/** `virsh list --all --name`: one name per line. */
export function parseListNames(stdout: string): string[] {
  return lines(stdout);
}

/** `virsh list --all --uuid`: one UUID per line. */
export function parseListUuids(stdout: string): string[] {
  const uuids = lines(stdout);
  if (uuids.some((u) => !/^[0-9a-f-]{36}$/.test(u))) throw new VirshParseError('list --uuid', stdout);
  return uuids;
}

/** `virsh domstats --state`: each domain's numeric state. */
export function parseDomstatsState(stdout: string): Map<string, DomainState> {
  const states = new Map<string, DomainState>();
  let current: string | null = null;
  for (const line of stdout.split('\n')) {
    const header = /^Domain: '(.*)'\s*$/.exec(line);
    if (header) {
      current = header[1] ?? null;
      continue;
    }
    const stat = /^\s+state\.state=(\d+)\s*$/.exec(line);
    if (stat && current !== null) {
      const state = STATE_BY_NUMBER[Number(stat[1])];
      if (!state) throw new VirshParseError('domstats --state', stdout);
      states.set(current, state);
    }
  }
  return states;
}

/**
 * `virsh domstats --raw --state --cpu-total --balloon --block --interface NAME`: one domain's
 * counters, summed over its disks (block.N.rd/wr.bytes) and interfaces (net.N.rx/tx.bytes).
 * Counters libvirt does not give (a shut-off domain has no block or net byte counts, a disk
 * without media none either) count as 0. libvirt 9.0 reports a cpu.time for a shut-off domain
 * that is not the domain's (a never-started one shows 130 ms), so a shut-off domain's CPU time
 * is 0: it is the time used since the domain started, and it does not run.
 */
export function parseDomstatsStats(stdout: string): DomainStats {
  const what = 'domstats --raw --state --cpu-total --balloon --block --interface';
  const fields = new Map<string, string>();
  let domains = 0;
  for (const line of stdout.split('\n')) {
    if (/^Domain: '.*'\s*$/.test(line)) {
      domains += 1;
      continue;
    }
    const stat = /^\s+([\w.-]+)=(.*)$/.exec(line);
    if (stat?.[1] !== undefined && stat[2] !== undefined && domains > 0) fields.set(stat[1], stat[2].trim());
  }
  if (domains !== 1) throw new VirshParseError(what, stdout);
  const counter = (key: string): bigint => {
    const value = fields.get(key);
    if (value === undefined) return 0n;
    if (!/^\d+$/.test(value)) throw new VirshParseError(what, stdout);
    return BigInt(value);
  };
  const total = (pattern: RegExp): number => {
    let sum = 0n;
    for (const key of fields.keys()) if (pattern.test(key)) sum += counter(key);
    return Number(sum);
  };
  const stateNumber = fields.get('state.state');
  const shutOff = stateNumber !== undefined && STATE_BY_NUMBER[Number(stateNumber)] === 'shutoff';
  return {
    cpuTimeMs: shutOff ? 0 : Number(counter('cpu.time') / 1_000_000n),
    memoryMiB: Number(counter('balloon.current') / 1024n),
    diskReadBytes: total(/^block\.\d+\.rd\.bytes$/),
    diskWriteBytes: total(/^block\.\d+\.wr\.bytes$/),
    netRxBytes: total(/^net\.\d+\.rx\.bytes$/),
    netTxBytes: total(/^net\.\d+\.tx\.bytes$/),
  };
}

/** `virsh domstate --reason NAME`: "shut off (destroyed)". */
export function parseDomstateReason(stdout: string): DomainStatus {
  const match = /^(.+?)\s*\((.*)\)\s*$/.exec(stdout.trim());
  const state = match?.[1] === undefined ? undefined : STATE_BY_WORDS[match[1]];
  if (!match || state === undefined) throw new VirshParseError('domstate --reason', stdout);
  return { state, reason: match[2] ?? 'unknown' };
}

/** `virsh domjobinfo NAME --completed --rawstats`: null when libvirt keeps no completed job (Job type: 0). */
export function parseDomjobinfoRaw(stdout: string): CompletedJob | null {
  const fields = keyValues(stdout);
  const type = fields.get('Job type');
  if (type === undefined) throw new VirshParseError('domjobinfo --rawstats', stdout);
  if (type === '0') return null;
  const num = (key: string): number | null => {
    const value = fields.get(key);
    return value === undefined || !/^\d+$/.test(value) ? null : Number(value);
  };
  const elapsed = num('time_elapsed');
  if (elapsed === null) throw new VirshParseError('domjobinfo --rawstats', stdout);
  const operation = num('operation');
  return {
    operation: operation === null ? 'unknown' : (JOB_OPERATIONS[operation] ?? 'unknown'),
    timeElapsedMs: elapsed,
    downtimeMs: num('downtime'),
    dataTotalBytes: num('data_total') ?? 0,
    dataProcessedBytes: num('data_processed') ?? 0,
    memoryIterations: num('memory_iteration'),
  };
}

/** `virsh nodeinfo`. */
export function parseNodeinfo(stdout: string): HostInfo {
  const fields = keyValues(stdout);
  const cpus = intField(fields, 'CPU(s)', 'nodeinfo', stdout);
  const memoryKiB = intField(fields, 'Memory size', 'nodeinfo', stdout);
  return {
    cpus,
    memoryMiB: Math.floor(memoryKiB / 1024),
    cpuModel: fields.get('CPU model') ?? 'unknown',
    cpuMhz: Number.parseInt(fields.get('CPU frequency') ?? '0', 10) || 0,
  };
}

/** `virsh dominfo NAME`. */
export function parseDominfo(stdout: string): DomainInfo {
  const fields = keyValues(stdout);
  const name = fields.get('Name');
  const uuid = fields.get('UUID');
  const state = STATE_BY_WORDS[fields.get('State') ?? ''];
  if (name === undefined || uuid === undefined || state === undefined) throw new VirshParseError('dominfo', stdout);
  return {
    name,
    uuid,
    state,
    vcpus: intField(fields, 'CPU(s)', 'dominfo', stdout),
    maxMemoryKiB: intField(fields, 'Max memory', 'dominfo', stdout),
    usedMemoryKiB: intField(fields, 'Used memory', 'dominfo', stdout),
    persistent: fields.get('Persistent') === 'yes',
    autostart: fields.get('Autostart') === 'enable',
  };
}

/** `virsh define FILE`: "Domain 'NAME' defined from FILE". */
export function parseDefinedName(stdout: string): string {
  const match = /^Domain '(.*)' defined from /m.exec(stdout);
  if (!match?.[1]) throw new VirshParseError('define', stdout);
  return match[1];
}

/** The domain's name in XML about to be defined (for error reports), or null when it has none. */
export function xmlDomainName(xml: string): string | null {
  const match = /<name>([^<]*)<\/name>/.exec(xml);
  if (!match?.[1]) return null;
  return match[1].replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&apos;', "'").replaceAll('&amp;', '&');
}

/**
 * What kind of failure virsh's stderr describes. The messages are libvirt's (virerror.c), stable
 * across releases; anything unrecognised is 'failed' and keeps its text in the error's detail.
 */
export function classifyVirshError(stderr: string): HypervisorErrorKind {
  if (/failed to get domain|Domain not found|no domain with matching/i.test(stderr)) return 'not-found';
  if (/failed to connect to the hypervisor|Failed to connect socket|Cannot recv data|End of file while reading/i.test(stderr)) return 'unreachable';
  if (/XML error|XML document failed to validate|Failed to open file/i.test(stderr)) return 'invalid-xml';
  if (/Requested operation is not valid|Domain is already active|domain is not running|already exists with uuid/i.test(stderr)) return 'invalid-state';
  return 'failed';
}

/** virsh's error lines without the "error: " prefixes, joined: the part worth showing a user. */
export function virshErrorDetail(stderr: string): string {
  const text = lines(stderr)
    .map((line) => line.replace(/^error:\s*/, ''))
    .join('; ');
  return text === '' ? 'no error message' : text;
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** "Key: value" lines (first colon splits; values trimmed, units kept). */
function keyValues(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of lines(text)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return fields;
}

function intField(fields: Map<string, string>, key: string, what: string, stdout: string): number {
  const value = Number.parseInt(fields.get(key) ?? '', 10);
  if (!Number.isFinite(value)) throw new VirshParseError(what, stdout);
  return value;
}
