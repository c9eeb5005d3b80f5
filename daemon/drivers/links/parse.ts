// Pure parsers of iproute2's JSON output (`ip -json -details addr show`, `bridge -json fdb
// show`) and of its error messages. Tested on captured output (test/unit/fixtures/links/).
import type { FdbEntry, LinkErrorKind, LinkInfo, LinkKind } from './port.ts';

type Json = Record<string, unknown>;

const KNOWN_KINDS: ReadonlySet<string> = new Set(['bridge', 'vxlan', 'vlan', 'veth']);

function asObject(value: unknown): Json | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`iproute2 output: ${what} is not a json array`);
  return value;
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function parseJson(text: string, what: string): unknown {
  // `ip -json` prints nothing at all (not `[]`) in a namespace without links of a kind.
  if (text.trim() === '') return [];
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`iproute2 output: ${what} is not valid json: ${(error as Error).message}`, { cause: error });
  }
}

function kindOf(link: Json, flags: string[]): LinkKind {
  const info = asObject(link.linkinfo);
  const kind = info ? str(info.info_kind) : null;
  if (kind === null) return flags.includes('LOOPBACK') ? 'loopback' : 'device';
  return KNOWN_KINDS.has(kind) ? (kind as LinkKind) : 'other';
}

function addressesOf(link: Json): string[] {
  const out: string[] = [];
  for (const entry of Array.isArray(link.addr_info) ? link.addr_info : []) {
    const addr = asObject(entry);
    if (!addr) continue;
    const local = str(addr.local);
    const prefix = num(addr.prefixlen);
    if (local === null || prefix === null) continue;
    // Link-local IPv6 addresses come with every interface; pvc never sets or removes them.
    if (addr.family === 'inet6' && addr.scope === 'link') continue;
    out.push(`${local}/${prefix}`);
  }
  return out;
}

function parseLink(value: unknown): LinkInfo {
  const link = asObject(value);
  const name = link ? str(link.ifname) : null;
  const mtu = link ? num(link.mtu) : null;
  if (!link || name === null || mtu === null) throw new Error(`iproute2 output: a link without ifname or mtu: ${JSON.stringify(value).slice(0, 200)}`);
  const flags = Array.isArray(link.flags) ? link.flags.filter((f): f is string => typeof f === 'string') : [];
  const kind = kindOf(link, flags);
  const info = asObject(link.linkinfo);
  const data = info ? asObject(info.info_data) : null;
  const slave = info && info.info_slave_kind === 'bridge' ? asObject(info.info_slave_data) : null;
  return {
    name,
    kind,
    master: str(link.master),
    mtu,
    up: flags.includes('UP'),
    operState: str(link.operstate) ?? 'UNKNOWN',
    macAddress: str(link.address),
    vxlan:
      kind === 'vxlan' && data
        ? { vni: num(data.id) ?? -1, local: str(data.local) ?? str(data.local6), dstPort: num(data.port) ?? -1, learning: data.learning === true }
        : null,
    vlan: kind === 'vlan' && data ? { id: num(data.id) ?? -1, parent: str(link.link) } : null,
    bridgePort: slave ? { learning: slave.learning === true, neighSuppress: slave.neigh_suppress === true } : null,
    addresses: addressesOf(link),
  };
}

/** `ip -json -details addr show`: every link of the namespace with its addresses. */
export function parseIpAddrDetails(text: string): LinkInfo[] {
  return asArray(parseJson(text, 'ip addr show'), 'ip addr show').map(parseLink);
}

/** `bridge -json fdb show dev X`. */
export function parseBridgeFdb(text: string): FdbEntry[] {
  return asArray(parseJson(text, 'bridge fdb show'), 'bridge fdb show').map((value) => {
    const entry = asObject(value);
    const mac = entry ? str(entry.mac) : null;
    if (!entry || mac === null) throw new Error(`iproute2 output: an fdb entry without mac: ${JSON.stringify(value).slice(0, 200)}`);
    const flags = Array.isArray(entry.flags) ? entry.flags.filter((f): f is string => typeof f === 'string') : [];
    return { mac, dst: str(entry.dst), flags, state: str(entry.state) };
  });
}

/** The kind of an iproute2 failure, from its stderr (messages as iproute2 6.1 and kernel 6.x print them). */
export function classifyIpError(stderr: string): LinkErrorKind {
  const text = stderr.toLowerCase();
  if (text.includes('cannot find device') || text.includes('does not exist') || text.includes('address not found')) return 'not-found';
  if (text.includes('file exists') || text.includes('already exists') || text.includes('already assigned')) return 'exists';
  if (text.includes('unknown device type')) return 'unsupported';
  // Enslaving to a device that is not a bridge answers "operation not supported".
  if (text.includes('mtu') || text.includes('invalid argument') || text.includes('operation not supported') || text.includes('out of range')) return 'invalid';
  return 'failed';
}
