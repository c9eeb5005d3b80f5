// Pure parsers of the JSON that the ceph and rbd CLIs of Ceph 16.2 print with --format json (no
// IO), tested on output captured from the test fixture's cluster (test/unit/fixtures/ceph/).
// Each output is checked against a zod schema of the fields pvc reads; other fields are ignored,
// so a newer Ceph that adds fields still parses, and one that drops a field fails loudly here.
import { z } from 'zod';
import type {
  BlocklistEntry,
  CephClusterStatus,
  CephHealth,
  ListedVolume,
  OsdInfo,
  PoolInfo,
  PoolUsage,
  RbdLock,
  RbdWatcher,
  SnapshotInfo,
  SnapshotRef,
  VolumeInfo,
} from './port.ts';

export class CephParseError extends Error {
  constructor(what: string, output: string, reason: string) {
    super(`cannot parse ${what} output (${reason}): ${JSON.stringify(output.slice(0, 300))}`);
    this.name = 'CephParseError';
  }
}

const count = z.number().int().nonnegative();
const bytes = z.number().nonnegative();
/** Ceph prints some booleans as the strings "true" and "false" (rbd snap ls, rbd ls -l). */
const stringBool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const flag = z.union([z.boolean(), z.literal(0), z.literal(1)]).transform((v) => v === true || v === 1);

const Status = z.object({
  fsid: z.string(),
  health: z.object({
    status: z.enum(['HEALTH_OK', 'HEALTH_WARN', 'HEALTH_ERR']),
    checks: z.record(z.string(), z.object({ summary: z.object({ message: z.string() }) })).default({}),
  }),
  quorum_names: z.array(z.string()),
  osdmap: z.object({ num_osds: count, num_up_osds: count, num_in_osds: count }),
  pgmap: z.object({
    num_pgs: count,
    pgs_by_state: z.array(z.object({ state_name: z.string(), count })).default([]),
    bytes_total: bytes.default(0),
    bytes_used: bytes.default(0),
    bytes_avail: bytes.default(0),
  }),
});

/** `ceph status --format json` */
export function parseStatus(stdout: string): CephClusterStatus {
  const s = parseWith(Status, 'ceph status', stdout);
  const checks = Object.fromEntries(Object.entries(s.health.checks).map(([code, check]) => [code, check.summary.message]));
  return {
    fsid: s.fsid,
    health: s.health.status satisfies CephHealth,
    checks,
    monitorsInQuorum: s.quorum_names,
    osds: { total: s.osdmap.num_osds, up: s.osdmap.num_up_osds, in: s.osdmap.num_in_osds },
    placementGroups: { total: s.pgmap.num_pgs, activeClean: s.pgmap.pgs_by_state.filter((p) => p.state_name === 'active+clean').reduce((n, p) => n + p.count, 0) },
    bytes: { total: s.pgmap.bytes_total, used: s.pgmap.bytes_used, available: s.pgmap.bytes_avail },
  };
}

const Df = z.object({
  pools: z.array(z.object({ name: z.string(), stats: z.object({ stored: bytes, bytes_used: bytes, max_avail: bytes, objects: count }) })),
});

/** `ceph df detail --format json` */
export function parseDf(stdout: string): PoolUsage[] {
  return parseWith(Df, 'ceph df', stdout).pools.map((p) => ({
    pool: p.name,
    storedBytes: p.stats.stored,
    usedBytes: p.stats.bytes_used,
    maxAvailableBytes: p.stats.max_avail,
    objects: p.stats.objects,
  }));
}

const PoolDetail = z.array(
  z.object({
    pool_name: z.string(),
    pool_id: count,
    size: count,
    min_size: count,
    pg_num: count,
    application_metadata: z.record(z.string(), z.unknown()).default({}),
  }),
);

/** `ceph osd pool ls detail --format json` */
export function parsePoolDetail(stdout: string): PoolInfo[] {
  return parseWith(PoolDetail, 'ceph osd pool ls detail', stdout).map((p) => ({
    name: p.pool_name,
    id: p.pool_id,
    size: p.size,
    minSize: p.min_size,
    pgNum: p.pg_num,
    applications: Object.keys(p.application_metadata).sort(),
  }));
}

const OsdDump = z.object({ osds: z.array(z.object({ osd: count, up: flag, in: flag })) });
const OsdDf = z.object({ nodes: z.array(z.object({ id: count, crush_weight: z.number(), kb: bytes, kb_used: bytes, pgs: count })) });

/**
 * `ceph osd dump` (which OSDs exist, up, in) joined with `ceph osd df` (weight, usage, PGs). An
 * OSD that never started is in the map but not yet in the CRUSH tree, so it has no df entry.
 */
export function parseOsds(dumpStdout: string, dfStdout: string): OsdInfo[] {
  const usage = new Map(parseWith(OsdDf, 'ceph osd df', dfStdout).nodes.map((n) => [n.id, n]));
  return parseOsdMap(dumpStdout).map((o) => {
    const df = usage.get(o.id);
    return {
      id: o.id,
      up: o.up,
      in: o.in,
      weight: df?.crush_weight ?? 0,
      totalBytes: (df?.kb ?? 0) * 1024,
      usedBytes: (df?.kb_used ?? 0) * 1024,
      placementGroups: df?.pgs ?? 0,
    };
  });
}

/** `ceph osd dump --format json`: the OSDs in the map, up and in. */
export function parseOsdMap(dumpStdout: string): Array<{ id: number; up: boolean; in: boolean }> {
  return parseWith(OsdDump, 'ceph osd dump', dumpStdout).osds.map((o) => ({ id: o.osd, up: o.up, in: o.in }));
}

const SafeToDestroy = z.object({ safe_to_destroy: z.array(count), active: z.array(count).default([]), stored_pgs: z.array(z.unknown()).default([]) });

/** `ceph osd safe-to-destroy osd.N --format json`: true when the OSD holds no data anyone needs. */
export function parseSafeToDestroy(stdout: string, id: number): boolean {
  return parseWith(SafeToDestroy, 'ceph osd safe-to-destroy', stdout).safe_to_destroy.includes(id);
}

const Parent = z.object({ pool: z.string(), image: z.string(), snapshot: z.string() });
const ImageInfo = z.object({ name: z.string(), size: bytes, format: count, features: z.array(z.string()).default([]), parent: Parent.optional() });

/** `rbd info POOL/IMAGE --format json` */
export function parseImageInfo(stdout: string, pool: string): VolumeInfo {
  const i = parseWith(ImageInfo, 'rbd info', stdout);
  return { pool, name: i.name, sizeBytes: i.size, parent: parentRef(i.parent), format: i.format, features: i.features };
}

const LsLong = z.array(
  z.object({ image: z.string(), snapshot: z.string().optional(), size: bytes, format: count, parent: Parent.optional(), protected: stringBool.optional() }),
);

/**
 * `rbd ls -l POOL --format json`: images and, as extra entries after each image, its snapshots
 * (with their size and protection, as `rbd snap ls` has them). It does not show features (see
 * VolumeInfo.features). An image rbd could not open is left out of its output altogether.
 */
export function parseLsLong(stdout: string, pool: string): ListedVolume[] {
  const entries = parseWith(LsLong, 'rbd ls -l', stdout);
  const volumes = new Map<string, ListedVolume>();
  for (const entry of entries) {
    if (entry.snapshot === undefined) {
      volumes.set(entry.image, { pool, name: entry.image, sizeBytes: entry.size, parent: parentRef(entry.parent), format: entry.format, features: [], snapshots: [] });
    }
  }
  for (const entry of entries) {
    if (entry.snapshot === undefined) continue;
    // Pacific prints protection for every snapshot entry: a Ceph that stops doing so must fail
    // here rather than have every snapshot reported unprotected.
    if (entry.protected === undefined) throw new CephParseError('rbd ls -l', stdout, `snapshot ${entry.image}@${entry.snapshot}: protected: missing`);
    volumes.get(entry.image)?.snapshots.push({ name: entry.snapshot, sizeBytes: entry.size, protected: entry.protected });
  }
  return [...volumes.values()];
}

const SnapLs = z.array(z.object({ name: z.string(), size: bytes, protected: stringBool }));

/** `rbd snap ls POOL/IMAGE --format json` */
export function parseSnapLs(stdout: string): SnapshotInfo[] {
  return parseWith(SnapLs, 'rbd snap ls', stdout).map((s) => ({ name: s.name, sizeBytes: s.size, protected: s.protected }));
}

const Children = z.array(z.object({ pool: z.string(), image: z.string() }));

/** `rbd children POOL/IMAGE@SNAP --format json` */
export function parseChildren(stdout: string): Array<{ pool: string; image: string }> {
  return parseWith(Children, 'rbd children', stdout).map((c) => ({ pool: c.pool, image: c.image }));
}

const LockLs = z.array(z.object({ id: z.string(), locker: z.string(), address: z.string() }));

/** `rbd lock ls POOL/IMAGE --format json` */
export function parseLockLs(stdout: string): RbdLock[] {
  return parseWith(LockLs, 'rbd lock ls', stdout).map((l) => ({ id: l.id, locker: l.locker, address: l.address }));
}

const RbdStatus = z.object({ watchers: z.array(z.object({ address: z.string(), client: z.union([count, z.string()]) })) });

/** `rbd status POOL/IMAGE --format json`: the client is a number there; shown as client.N like rbd lock ls. */
export function parseRbdStatus(stdout: string): RbdWatcher[] {
  return parseWith(RbdStatus, 'rbd status', stdout).watchers.map((w) => ({
    address: w.address,
    client: typeof w.client === 'number' ? `client.${w.client}` : w.client,
  }));
}

const Blocklist = z.array(z.object({ addr: z.string(), until: z.string().optional() }));

/**
 * `ceph osd blocklist ls --format json`. Pacific prints two JSON arrays one after the other
 * (address entries, then range entries); only the first is read.
 */
export function parseBlocklist(stdout: string): BlocklistEntry[] {
  return parseWith(Blocklist, 'ceph osd blocklist ls', stdout).map((b) => ({ address: b.addr, until: b.until ?? null }));
}

const AuthKey = z.object({ key: z.string().min(1) });

/** `ceph auth get-key client.X --format json` */
export function parseAuthKey(stdout: string): string {
  return parseWith(AuthKey, 'ceph auth get-key', stdout).key;
}

const QemuImgInfo = z.object({ 'virtual-size': count, format: z.string() });

/** `qemu-img info --output json FILE`: the image's size as a disk and its format. */
export function parseQemuImgInfo(stdout: string): { virtualSizeBytes: number; format: string } {
  const info = parseWith(QemuImgInfo, 'qemu-img info', stdout);
  return { virtualSizeBytes: info['virtual-size'], format: info.format };
}

/** `ceph osd new UUID` prints the new OSD's id. */
export function parseOsdId(stdout: string): number {
  const text = stdout.trim();
  if (!/^\d+$/.test(text)) throw new CephParseError('ceph osd new', stdout, 'not an OSD id');
  return Number(text);
}

function parentRef(parent: z.infer<typeof Parent> | undefined): SnapshotRef | null {
  return parent === undefined ? null : { pool: parent.pool, image: parent.image, snapshot: parent.snapshot };
}

function parseWith<T>(schema: z.ZodType<T>, what: string, stdout: string): T {
  let value: unknown;
  try {
    value = firstJsonValue(stdout);
  } catch (error) {
    throw new CephParseError(what, stdout, error instanceof Error ? error.message : String(error));
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new CephParseError(what, stdout, `${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/**
 * The first JSON value in `text` (leading whitespace skipped): some Ceph commands print more than
 * one value (blocklist ls). Strings are skipped whole, so brackets inside them do not count.
 */
export function firstJsonValue(text: string): unknown {
  const start = text.search(/\S/);
  if (start < 0) throw new Error('no output');
  const open = text[start];
  if (open !== '[' && open !== '{') return JSON.parse(text);
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth += 1;
    else if (c === ']' || c === '}') {
      depth -= 1;
      if (depth === 0) return JSON.parse(text.slice(start, i + 1));
    }
  }
  throw new Error('unterminated JSON');
}
