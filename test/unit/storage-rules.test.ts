// The pure storage rules: the fullness limit, pool/volume@snapshot references, the storage
// codecs and paths, and the status planner of the primary's refresh.
import { describe, expect, it } from 'vitest';
import { checkFullness } from '../../common/storage/fullness.ts';
import { parseSnapshotRef, parseVolumeRef } from '../../common/storage/refs.ts';
import { PoolSpecDoc, SCHEMA_DESCRIPTION, SnapshotSpecDoc, SnapshotStatusDoc, StorageStatusDoc, VolumeSpecDoc, ZkLayout, parseReservationName } from '../../common/zk/schema.ts';
import { failedRefresh, planStorageStatus, type CephFacts } from '../../daemon/reconcile/storage-status-plan.ts';
import { thrown } from '../helpers/thrown.ts';

const GiB = 1024 ** 3;

describe('fullness rule', () => {
  const base = { pool: 'vms', storedBytes: 50 * GiB, maxAvailableBytes: 50 * GiB, inFlightBytes: 0, maxFullnessPercent: 80 };

  it('lets a write through up to the limit, exactly on it included', () => {
    expect(checkFullness({ ...base, writeBytes: 30 * GiB })).toEqual({ ok: true, afterPercent: 80 });
    expect(checkFullness({ ...base, writeBytes: 10 * GiB }).ok).toBe(true);
  });

  it('refuses a write past the limit, naming pool, limit and numbers', () => {
    const verdict = checkFullness({ ...base, writeBytes: 30 * GiB + 1 });
    expect(verdict.ok).toBe(false);
    if (verdict.ok) return;
    expect(verdict.reason).toBe('it would fill pool vms to 80.0 %, past the limit of 80 % (50 GiB stored + 30 GiB new, of 100 GiB)');
  });

  it('counts the writes in flight into the same pool', () => {
    expect(checkFullness({ ...base, writeBytes: 20 * GiB }).ok).toBe(true);
    const verdict = checkFullness({ ...base, writeBytes: 20 * GiB, inFlightBytes: 20 * GiB });
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toContain('and 20 GiB of other writes in progress');
  });

  it('counts the full provisioned size, however little is stored', () => {
    expect(checkFullness({ ...base, storedBytes: 0, maxAvailableBytes: 10 * GiB, writeBytes: 9 * GiB }).ok).toBe(false);
    expect(checkFullness({ ...base, storedBytes: 0, maxAvailableBytes: 10 * GiB, writeBytes: 8 * GiB }).ok).toBe(true);
  });

  it('refuses everything in a pool with no capacity', () => {
    const verdict = checkFullness({ ...base, storedBytes: 0, maxAvailableBytes: 0, writeBytes: 1 });
    expect(verdict).toEqual({ ok: false, afterPercent: 100, reason: 'pool vms has no capacity (no OSD takes its data)' });
  });

  it('follows the configured limit', () => {
    expect(checkFullness({ ...base, maxFullnessPercent: 100, writeBytes: 50 * GiB }).ok).toBe(true);
    expect(checkFullness({ ...base, maxFullnessPercent: 50, writeBytes: 1 }).ok).toBe(false);
  });
});

describe('references', () => {
  it('reads pool/volume and pool/volume@snapshot', () => {
    expect(parseVolumeRef('vms/disk0')).toEqual({ pool: 'vms', volume: 'disk0' });
    expect(parseVolumeRef('disk0', 'vms')).toEqual({ pool: 'vms', volume: 'disk0' });
    expect(parseSnapshotRef('vms/base_1.img@gold-2')).toEqual({ pool: 'vms', volume: 'base_1.img', snapshot: 'gold-2' });
  });

  it.each([
    ['disk0', 'invalid volume "disk0": use pool/volume'],
    ['a/b/c', 'invalid volume "a/b/c": use pool/volume'],
    ['vms/d@s', 'invalid volume "vms/d@s": use pool/volume, without @snapshot'],
    ['/disk0', `invalid pool name "": use 1-255 letters, digits, '.', '_' and '-', starting with a letter or digit`],
    ['vms/.hidden', `invalid volume name ".hidden": use 1-255 letters, digits, '.', '_' and '-', starting with a letter or digit`],
    ['vms/a b', `invalid volume name "a b"`],
  ])('refuses volume %j', (text, message) => {
    const error = thrown(() => parseVolumeRef(text));
    expect(error.code).toBe('bad-input');
    expect(error.message).toContain(message);
  });

  it('refuses snapshots without @ or with a bad name', () => {
    expect(thrown(() => parseSnapshotRef('vms/base')).message).toBe('invalid snapshot "vms/base": use pool/volume@snapshot');
    expect(thrown(() => parseSnapshotRef('vms/base@')).message).toContain('invalid snapshot name ""');
    expect(thrown(() => parseSnapshotRef('vms/base@a@b')).message).toContain('invalid snapshot name "a@b"');
  });
});

describe('storage codecs and paths', () => {
  const layout = new ZkLayout('c1');

  it('puts everything under /pvc/<cluster>/storage', () => {
    expect(layout.volume('vms', 'disk0').path).toBe('/pvc/c1/storage/pools/vms/volumes/disk0');
    expect(layout.snapshot('vms', 'disk0', 'gold').path).toBe('/pvc/c1/storage/pools/vms/volumes/disk0/snapshots/gold');
    expect(layout.volumeStatus('vms', 'disk0').path).toBe('/pvc/c1/storage/pools/vms/volumes/disk0/status');
    expect(layout.snapshotStatus('vms', 'disk0', 'gold').path).toBe('/pvc/c1/storage/pools/vms/volumes/disk0/snapshots/gold/status');
    expect(layout.osd(3).path).toBe('/pvc/c1/storage/osds/3');
    expect(layout.newReservation('vms').path).toBe('/pvc/c1/storage/reservations/vms@');
    expect(parseReservationName('vms@0000000012')).toEqual({ pool: 'vms', seq: 12 });
    expect(() => parseReservationName('vms')).toThrow('not a storage reservation name');
  });

  it('describes every storage path it builds in SCHEMA_DESCRIPTION, with its kind', () => {
    const described = new Map(SCHEMA_DESCRIPTION.map((entry) => [entry.path, entry.kind]));
    const generic = (p: string): string =>
      p
        .replace(/^\/pvc\/c1/, '/pvc/<cluster>')
        .replace(/\/pools\/vms/, '/pools/<pool>')
        .replace(/\/volumes\/d0/, '/volumes/<volume>')
        .replace(/\/snapshots\/s1/, '/snapshots/<snapshot>')
        .replace(/\/osds\/3$/, '/osds/<osd>')
        .replace(/\/vms@\d{10}$/, '/<pool>@<seq>');
    const refs = [
      layout.storageDir(), layout.storageSettings(), layout.storageStatus(), layout.poolsDir(), layout.pool('vms'), layout.poolStatus('vms'),
      layout.volumesDir('vms'), layout.volume('vms', 'd0'), layout.volumeStatus('vms', 'd0'), layout.snapshotsDir('vms', 'd0'), layout.snapshot('vms', 'd0', 's1'), layout.snapshotStatus('vms', 'd0', 's1'),
      layout.osdsDir(), layout.osd(3), layout.reservationsDir(), layout.reservation('vms@0000000001'),
    ];
    for (const ref of refs) expect(described.has(generic(ref.path)), ref.path).toBe(true);
    expect(described.get('/pvc/<cluster>/storage/reservations/<pool>@<seq>')).toBe('ephemeral-sequential');
    expect([...described.keys()].filter((p) => p.includes('/storage')).length).toBe(refs.length);
    expect(layout.storageDirectories().map((r) => r.path)).toEqual(['/pvc/c1/storage', '/pvc/c1/storage/pools', '/pvc/c1/storage/osds', '/pvc/c1/storage/reservations']);
  });

  it('refuses bad names and ids before building a path', () => {
    expect(thrown(() => layout.pool('a/b')).message).toContain('invalid pool name "a/b"');
    expect(thrown(() => layout.volume('vms', '..')).message).toContain('invalid volume name ".."');
    expect(thrown(() => layout.osd(-1)).message).toBe('invalid osd id -1: use a whole number >= 0');
  });

  it('holds pool replication to min_size <= size', () => {
    expect(PoolSpecDoc.safeParse({ name: 'vms', pgNum: 32, size: 3, minSize: 2 }).success).toBe(true);
    const bad = PoolSpecDoc.safeParse({ name: 'vms', pgNum: 32, size: 1, minSize: 2 });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('minSize must not be larger than size');
    expect(PoolSpecDoc.safeParse({ name: 'vms', pgNum: 0, size: 1, minSize: 1 }).success).toBe(false);
  });

  it('refuses unknown fields and bad values', () => {
    expect(VolumeSpecDoc.safeParse({ name: 'd', pool: 'vms', sizeBytes: GiB, parent: null }).success).toBe(true);
    expect(VolumeSpecDoc.safeParse({ name: 'd', pool: 'vms', sizeBytes: GiB, parent: null, extra: 1 }).success).toBe(false);
    expect(VolumeSpecDoc.safeParse({ name: 'd', pool: 'vms', sizeBytes: 0, parent: null }).success).toBe(false);
    expect(VolumeSpecDoc.safeParse({ name: 'd', pool: 'vms', sizeBytes: 1.5, parent: null }).success).toBe(false);
    expect(SnapshotSpecDoc.safeParse({ name: 'a@b', protected: false }).success).toBe(false);
  });
});

describe('status planner', () => {
  const facts: CephFacts = {
    status: {
      fsid: 'f-1',
      health: 'HEALTH_WARN',
      checks: { POOL_NO_REDUNDANCY: 'x'.repeat(2_000) },
      monitorsInQuorum: ['b', 'a'],
      osds: { total: 2, up: 2, in: 1 },
      placementGroups: { total: 64, activeClean: 60 },
      bytes: { total: 8 * GiB, used: GiB, available: 7 * GiB },
    },
    pools: [
      { name: 'vms', id: 2, size: 1, minSize: 1, pgNum: 32, applications: ['rbd'] },
      { name: 'other', id: 3, size: 1, minSize: 1, pgNum: 8, applications: ['rbd'] },
      { name: 'device_health_metrics', id: 1, size: 1, minSize: 1, pgNum: 1, applications: ['mgr_devicehealth'] },
    ],
    usage: [{ pool: 'vms', storedBytes: GiB, usedBytes: GiB, maxAvailableBytes: 3 * GiB, objects: 10 }],
    osds: [
      { id: 1, up: true, in: false, weight: 0.004, totalBytes: 4 * GiB, usedBytes: 0, placementGroups: 0 },
      { id: 0, up: true, in: true, weight: 0.004, totalBytes: 4 * GiB, usedBytes: GiB, placementGroups: 64 },
    ],
    volumesByPool: new Map([
      [
        'vms',
        [
          {
            pool: 'vms',
            name: 'base',
            sizeBytes: GiB,
            parent: null,
            format: 2,
            features: ['layering', 'exclusive-lock'],
            snapshots: [
              { name: 'gold', sizeBytes: GiB / 2, protected: true },
              { name: 'unmanaged', sizeBytes: GiB, protected: false },
            ],
          },
          { pool: 'vms', name: 'clone', sizeBytes: GiB, parent: { pool: 'vms', image: 'base', snapshot: 'gold' }, format: 2, features: ['layering'], snapshots: [] },
          { pool: 'vms', name: 'stray', sizeBytes: GiB, parent: null, format: 2, features: [], snapshots: [{ name: 'gold', sizeBytes: GiB, protected: false }] },
        ],
      ],
    ]),
  };
  const specs = {
    pools: ['vms', 'gone'],
    volumes: [
      { pool: 'vms', volume: 'base' },
      { pool: 'vms', volume: 'clone' },
      { pool: 'vms', volume: 'missing' },
    ],
    snapshots: [
      { pool: 'vms', volume: 'base', snapshot: 'gold' },
      { pool: 'vms', volume: 'base', snapshot: 'lost' },
      { pool: 'vms', volume: 'missing', snapshot: 'gold' },
      { pool: 'gone', volume: 'v', snapshot: 'gold' },
    ],
  };

  it('writes statuses for what pvc manages and names what it does not', () => {
    const plan = planStorageStatus(facts, specs, 'c1', 1234);
    expect(() => StorageStatusDoc.parse(plan.storage)).not.toThrow();
    expect(plan.storage.ceph?.monitorsInQuorum).toEqual(['a', 'b']);
    expect(plan.storage.ceph?.checks.POOL_NO_REDUNDANCY).toHaveLength(1_000);
    expect(plan.storage.unmanaged).toEqual({ pools: ['other'], volumes: ['vms/stray'], poolCount: 1, volumeCount: 1 });
    expect(plan.storage.refreshedAtMs).toBe(1234);
    expect(plan.pools).toEqual([
      { pool: 'vms', status: { inCeph: true, id: 2, pgNum: 32, size: 1, minSize: 1, storedBytes: GiB, usedBytes: GiB, maxAvailableBytes: 3 * GiB, objects: 10, images: 3 } },
      { pool: 'gone', status: { inCeph: false, id: 0, pgNum: 0, size: 0, minSize: 0, storedBytes: 0, usedBytes: 0, maxAvailableBytes: 0, objects: 0, images: 0 } },
    ]);
    expect(plan.volumes.map((v) => [v.volume, v.status.inCeph, v.status.parent])).toEqual([
      ['base', true, null],
      ['clone', true, { pool: 'vms', volume: 'base', snapshot: 'gold' }],
      ['missing', false, null],
    ]);
    expect(plan.osds.map((o) => o.id)).toEqual([0, 1]);
  });

  it('gives every managed snapshot a status: what rbd ls -l listed, or not in ceph', () => {
    const plan = planStorageStatus(facts, specs, 'c1', 1234);
    const absent = { inCeph: false, sizeBytes: 0, protected: false };
    expect(plan.snapshots).toEqual([
      { pool: 'vms', volume: 'base', snapshot: 'gold', status: { inCeph: true, sizeBytes: GiB / 2, protected: true } },
      // Ceph has the image but not the snapshot; then neither the image, nor the pool.
      { pool: 'vms', volume: 'base', snapshot: 'lost', status: absent },
      { pool: 'vms', volume: 'missing', snapshot: 'gold', status: absent },
      { pool: 'gone', volume: 'v', snapshot: 'gold', status: absent },
    ]);
    for (const s of plan.snapshots) expect(() => SnapshotStatusDoc.parse(s.status)).not.toThrow();
  });

  it('plans the same documents for the same facts (so nothing is rewritten)', () => {
    const a = planStorageStatus(facts, specs, 'c1', 1);
    const b = planStorageStatus(facts, specs, 'c1', 2);
    expect(JSON.stringify(a.volumes)).toBe(JSON.stringify(b.volumes));
    expect(JSON.stringify(a.pools)).toBe(JSON.stringify(b.pools));
    expect(JSON.stringify(a.snapshots)).toBe(JSON.stringify(b.snapshots));
  });

  it('keeps the last facts after a failed refresh, saying why', () => {
    const previous = planStorageStatus(facts, specs, 'c1', 1).storage;
    const failed = failedRefresh(previous, 'ceph did not answer within 30000 ms', 'c2');
    expect(failed).toEqual({ ...previous, lastError: 'ceph did not answer within 30000 ms', node: 'c2' });
    expect(failedRefresh(null, 'x', 'c1')).toEqual({ ceph: null, unmanaged: { pools: [], volumes: [], poolCount: 0, volumeCount: 0 }, refreshedAtMs: null, lastError: 'x', node: 'c1' });
  });
});
