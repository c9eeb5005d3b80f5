// The Ceph parsers and error classification on output captured from Ceph 16.2.15 on the test
// machine (test/unit/fixtures/ceph/: a single-host cluster with pool "fx" holding an image
// "base" with snapshots gold (protected) and plain, a format-2 clone "vm1-disk0" of base@gold, an
// imported "imported" with an advisory lock, and qemu-nbd holding "base" open).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cephErrorDetail, classifyCephFailure, lastQemuImgPercent, lastRbdPercent, softFailure } from '../../daemon/drivers/ceph/parse-errors.ts';
import {
  CephParseError,
  firstJsonValue,
  parseAuthKey,
  parseBlocklist,
  parseChildren,
  parseDf,
  parseImageInfo,
  parseLockLs,
  parseLsLong,
  parseOsdId,
  parseOsds,
  parsePoolDetail,
  parseQemuImgInfo,
  parseRbdStatus,
  parseSafeToDestroy,
  parseSnapLs,
  parseStatus,
} from '../../daemon/drivers/ceph/parse.ts';

const fixture = (name: string): string => readFileSync(new URL(`fixtures/ceph/${name}`, import.meta.url), 'utf8');
const jsonLines = <T>(name: string): T[] => fixture(name).trim().split('\n').map((line) => JSON.parse(line) as T);
const MiB = 1024 * 1024;

describe('cluster and pools', () => {
  it('reads ceph status: health, quorum, OSDs, PG states, bytes', () => {
    expect(parseStatus(fixture('status.json'))).toEqual({
      fsid: '6f260ae3-73ed-4010-809a-1933fe468a61',
      health: 'HEALTH_OK',
      checks: {},
      monitorsInQuorum: ['a'],
      osds: { total: 1, up: 1, in: 1 },
      placementGroups: { total: 9, activeClean: 1 },
      bytes: { total: 4294967296, used: 304443392, available: 3990523904 },
    });
  });

  it('reads the health checks of a warning as code -> summary', () => {
    const status = parseStatus(fixture('status-warn.json'));
    expect(status.health).toBe('HEALTH_WARN');
    expect(status.checks).toEqual({ OSDMAP_FLAGS: 'noout flag(s) set' });
  });

  it('reads ceph df detail per pool', () => {
    expect(parseDf(fixture('df-detail.json'))).toEqual([
      { pool: 'device_health_metrics', storedBytes: 0, usedBytes: 0, maxAvailableBytes: 3775718144, objects: 0 },
      { pool: 'fx', storedBytes: 111, usedBytes: 16384, maxAvailableBytes: 3775718144, objects: 6 },
    ]);
  });

  it('reads pools with their settings and applications', () => {
    expect(parsePoolDetail(fixture('osd-pool-ls-detail.json'))).toEqual([
      { name: 'device_health_metrics', id: 1, size: 1, minSize: 1, pgNum: 1, applications: ['mgr_devicehealth'] },
      { name: 'fx', id: 3, size: 1, minSize: 1, pgNum: 8, applications: ['rbd'] },
    ]);
  });

  it('joins the OSD map (up, in) with osd df (weight, usage, PGs)', () => {
    expect(parseOsds(fixture('osd-dump.json'), fixture('osd-df.json'))).toEqual([
      { id: 0, up: true, in: true, weight: 0.0038909912109375, totalBytes: 4194304 * 1024, usedBytes: 298416 * 1024, placementGroups: 9 },
    ]);
  });

  it('gives an OSD that is in the map but not yet in the CRUSH tree zero usage', () => {
    expect(parseOsds(fixture('osd-dump.json'), '{"nodes":[],"stray":[]}')).toEqual([{ id: 0, up: true, in: true, weight: 0, totalBytes: 0, usedBytes: 0, placementGroups: 0 }]);
  });

  it('reads safe-to-destroy for the OSD asked about', () => {
    expect(parseSafeToDestroy(fixture('osd-safe-to-destroy-active.json'), 0)).toBe(false);
    expect(parseSafeToDestroy(fixture('osd-safe-to-destroy-safe.json'), 9)).toBe(true);
  });

  it('reads the id printed by ceph osd new, and nothing else', () => {
    expect(parseOsdId('3\n')).toBe(3);
    expect(() => parseOsdId('Error EEXIST\n')).toThrow(CephParseError);
  });
});

describe('rbd images and snapshots', () => {
  it('reads rbd info of a standalone image and of a clone (its parent)', () => {
    expect(parseImageInfo(fixture('rbd-info.json'), 'fx')).toEqual({
      pool: 'fx',
      name: 'base',
      sizeBytes: 64 * MiB,
      parent: null,
      format: 2,
      features: ['layering', 'exclusive-lock', 'object-map', 'fast-diff', 'deep-flatten', 'operations'],
    });
    expect(parseImageInfo(fixture('rbd-info-clone.json'), 'fx')).toMatchObject({ name: 'vm1-disk0', parent: { pool: 'fx', image: 'base', snapshot: 'gold' } });
  });

  it('reads rbd ls -l: images with their snapshots (size, protection), parents, no features', () => {
    expect(parseLsLong(fixture('rbd-ls-l.json'), 'fx')).toEqual([
      {
        pool: 'fx',
        name: 'base',
        sizeBytes: 64 * MiB,
        parent: null,
        format: 2,
        features: [],
        snapshots: [
          { name: 'gold', sizeBytes: 64 * MiB, protected: true },
          { name: 'plain', sizeBytes: 64 * MiB, protected: false },
        ],
      },
      { pool: 'fx', name: 'imported', sizeBytes: MiB, parent: null, format: 2, features: [], snapshots: [] },
      { pool: 'fx', name: 'vm1-disk0', sizeBytes: 64 * MiB, parent: { pool: 'fx', image: 'base', snapshot: 'gold' }, format: 2, features: [], snapshots: [] },
    ]);
    expect(parseLsLong(fixture('rbd-ls-l-empty.json'), 'x')).toEqual([]);
  });

  it('refuses an rbd ls -l snapshot entry without its protection', () => {
    const entries = JSON.parse(fixture('rbd-ls-l.json')) as Array<Record<string, unknown>>;
    const stripped = entries.map(({ protected: _protected, ...rest }) => rest);
    expect(() => parseLsLong(JSON.stringify(stripped), 'fx')).toThrow(/rbd ls -l.*snapshot base@gold: protected: missing/);
  });

  it('reads snapshots with "true"/"false" protection strings as booleans', () => {
    expect(parseSnapLs(fixture('rbd-snap-ls.json'))).toEqual([
      { name: 'gold', sizeBytes: 64 * MiB, protected: true },
      { name: 'plain', sizeBytes: 64 * MiB, protected: false },
    ]);
  });

  it('reads the clones of a snapshot', () => {
    expect(parseChildren(fixture('rbd-children.json'))).toEqual([{ pool: 'fx', image: 'vm1-disk0' }]);
  });
});

describe('locks, watchers, blocklist, keys', () => {
  it('reads rbd lock ls', () => {
    expect(parseLockLs(fixture('rbd-lock-ls.json'))).toEqual([{ id: 'pvc-lock-1', locker: 'client.4315', address: '127.0.0.1:0/1221522832' }]);
    expect(parseLockLs(fixture('rbd-lock-ls-empty.json'))).toEqual([]);
  });

  it('reads rbd status watchers, naming the client as client.N', () => {
    expect(parseRbdStatus(fixture('rbd-status.json'))).toEqual([{ address: '127.0.0.1:0/3594464907', client: 'client.4325' }]);
    expect(parseRbdStatus(fixture('rbd-status-empty.json'))).toEqual([]);
  });

  it('reads the first of the two arrays blocklist ls prints', () => {
    expect(parseBlocklist(fixture('osd-blocklist-ls.json'))).toEqual([
      { address: '127.0.0.1:0/12345', until: '2026-11-22T00:41:32.906460+0000' },
      { address: '127.0.0.1:0/3594464907', until: '2026-11-22T00:50:31.210233+0000' },
    ]);
    expect(parseBlocklist(fixture('osd-blocklist-ls-empty.json'))).toEqual([]);
  });

  it('reads a cephx key and qemu-img info', () => {
    expect(parseAuthKey(fixture('auth-get-key.json'))).toBe('AQCaOQJrekCZNRAAnsK/KCT2IJX/gOBSPZRPIw==');
    expect(parseQemuImgInfo(fixture('qemu-img-info-qcow2.json'))).toEqual({ virtualSizeBytes: MiB, format: 'qcow2' });
  });
});

describe('malformed output', () => {
  it('names the command and the missing field', () => {
    expect(() => parseImageInfo('{"name":"x"}', 'p')).toThrow(/cannot parse rbd info output \(size: /);
    expect(() => parseStatus('')).toThrow(/cannot parse ceph status output \(no output\)/);
    expect(() => parseSnapLs('[{"name":"s","size":1,"protected":"maybe"}]')).toThrow(CephParseError);
  });

  it('finds the first JSON value, skipping brackets inside strings', () => {
    expect(firstJsonValue('\n[{"a":"]["}][]')).toEqual([{ a: '][' }]);
    expect(firstJsonValue(' {"k":"\\"}"} trailing')).toEqual({ k: '"}' });
    expect(() => firstJsonValue('[1, 2')).toThrow(/unterminated/);
  });
});

describe('error classification on captured stderr', () => {
  const expected: Record<string, string> = {
    'rbd rm --no-progress fx/ghost': 'not-found',
    'rbd info --format json fx/ghost': 'not-found',
    'rbd info --format json nopool/ghost': 'not-found',
    'rbd create --image-format 2 --size 1048576B fx/base': 'exists',
    'rbd snap create --no-progress fx/base@gold': 'exists',
    'rbd snap protect fx/base@gold': 'busy',
    'rbd snap unprotect fx/base@plain': 'invalid',
    'rbd rm --no-progress fx/base': 'busy',
    'rbd resize --no-progress --size 1048576B fx/base': 'invalid',
    'rbd clone fx/base@plain fx/c9': 'invalid',
    'rbd rename fx/base fx/imported': 'exists',
    'rbd children --format json fx/base@ghost': 'not-found',
    'rbd snap rollback --no-progress fx/base@ghost': 'not-found',
    'rbd lock rm fx/imported pvc-lock-1 client.1': 'not-found',
    'rbd resize --no-progress --size 2097152B fx/imported': 'busy',
    'rbd export --no-progress fx/base /tmp/cephwork/one.raw': 'exists',
    'ceph auth get-key client.ghost -f json': 'not-found',
    'ceph osd pool set ghostpool size 1': 'not-found',
    'ceph osd pool set fx pg_num 0': 'invalid',
    'ceph osd pool set fx min_size 2': 'invalid',
    'ceph osd pool set fx size 1': 'invalid',
    'ceph osd blocklist add garbage 60': 'invalid',
    'rbd rm --no-progress fx/vm1-disk0': 'busy',
    'rbd --conf /tmp/cephwork/bogus.conf --client-mount-timeout 2 ls fx': 'unreachable',
    'ceph --conf /tmp/cephwork/bogus.conf --connect-timeout 2 status -f json': 'unreachable',
  };
  const captured = jsonLines<{ command: string; exitCode: number; stderr: string }>('errors.jsonl');

  it('covers every captured failure', () => {
    expect(captured.map((c) => c.command).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const { command, exitCode, stderr } of captured) {
    it(`${command} (exit ${exitCode}) -> ${expected[command]}`, () => {
      expect(classifyCephFailure(exitCode, stderr)).toBe(expected[command]);
    });
  }

  it('keeps the CLI summary and drops log prefixes, progress and repeats', () => {
    const clone = captured.find((c) => c.command === 'rbd clone fx/base@plain fx/c9');
    expect(cephErrorDetail(clone?.stderr ?? '')).toBe('librbd::image::CloneRequest: 0x56234e252c70 validate_parent: parent snapshot must be protected; rbd: clone error: (22) Invalid argument');
    expect(cephErrorDetail('\rRemoving image: 0% complete...failed.\nrbd: delete error: (2) No such file or directory\n')).toBe('rbd: delete error: (2) No such file or directory');
    expect(cephErrorDetail('')).toBe('no error message');
  });

  it('reads the sentences of ceph commands that exit 0 without acting', () => {
    const kinds = jsonLines<{ command: string; stderr: string }>('soft-failures.jsonl').map((c) => softFailure(c.stderr));
    expect(kinds).toEqual(['exists', 'not-found', 'not-found', 'not-found', 'not-found']);
    expect(softFailure("pool 'fx' created\n")).toBeNull();
    expect(softFailure('marked out osd.0.\n')).toBeNull();
  });
});

describe('progress output', () => {
  it('reads rbd and qemu-img percentages, the last in a chunk', () => {
    expect(lastRbdPercent(fixture('rbd-import-progress.txt'))).toBe(100);
    expect(lastRbdPercent('\rImporting image: 1% complete...\rImporting image: 42% complete...')).toBe(42);
    expect(lastRbdPercent('nothing')).toBeNull();
    expect(lastQemuImgPercent(fixture('qemu-img-convert-progress.txt'))).toBe(100);
    expect(lastQemuImgPercent('    (0.00/100%)\r    (12.50/100%)\r')).toBe(12.5);
  });
});
