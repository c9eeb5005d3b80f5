// `pvc storage` end to end through the CLI's own entry point (main(), in this process, so that
// the CLI and the test share one simulated Ceph, daemon/drivers/ceph/sim.ts) against real ZooKeeper: the pool, volume,
// snapshot and clone lifecycle, the refusals with their exit codes (volume used by a vm, volume
// with clones, past the fullness limit), upload/download with equal checksums, OSDs, and
// status/util and snapshot list's IN CEPH after the primary's refresh.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { setCephDriverFactory } from '../../cli/storage-context.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { StorageStatusRunnable } from '../../daemon/coordinator/storage-status-runnable.ts';
import { SimCeph } from '../../daemon/drivers/ceph/sim.ts';
import { useCliSandbox } from '../helpers/cli-sandbox.ts';
import { FULL_SPEC } from '../helpers/vm-fixtures.ts';
import { closeTrackedStores, connectStore, testAuth, uniqueClusterName } from '../helpers/zk.ts';

const GiB = 1024 ** 3;
const cluster = uniqueClusterName('cli-storage');
const hosts = inject('zkHosts');
const sb = useCliSandbox(
  'pvc-cli-storage-',
  `default: t\nconnections:\n  - {name: t, hosts: "${hosts}", cluster: ${cluster}, user: ${testAuth.user}, password: ${testAuth.password}, ceph: {conf: /nonexistent/ceph.conf, id: admin}}\n`,
);

let store: ZkStore;
let layout: ZkLayout;
const ceph = new SimCeph();
let restoreFactory: () => void = () => undefined;

/** Runs one command line; returns the exit code, stdout and stderr of just this run. */
async function pvc(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  sb.out = '';
  sb.err = '';
  const code = await main(args);
  return { code, out: sb.out, err: sb.err };
}

async function pvcJson<T>(...args: string[]): Promise<T> {
  const result = await pvc(...args, '--format', 'json');
  expect(result.err).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.out) as T;
}

beforeAll(async () => {
  store = await connectStore(hosts);
  layout = new ZkLayout(cluster);
  await migrateSchema(store, layout);
  restoreFactory = setCephDriverFactory(async () => ceph);
});

afterAll(async () => {
  restoreFactory();
  await closeTrackedStores();
});

describe('pool, volume, snapshot and clone lifecycle', () => {
  it('adds, lists, changes and removes, refusing what is unsafe', async () => {
    expect(await pvc('storage', 'pool', 'add', 'vms', '--size', '1')).toMatchObject({ code: 0, out: 'added pool vms (32 pgs, size 1, min_size 1)\n' });
    expect(await pvc('storage', 'pool', 'set', 'vms', '--pgs', '64')).toMatchObject({ code: 0, out: 'pool vms: 64 pgs, size 1, min_size 1\n' });
    expect((await ceph.listPools()).find((p) => p.name === 'vms')?.pgNum).toBe(64);
    expect(await pvcJson<Array<{ name: string; pgNum: number }>>('storage', 'pool', 'list')).toMatchObject([{ name: 'vms', pgNum: 64, size: 1, minSize: 1, volumes: 0 }]);

    expect(await pvc('storage', 'volume', 'add', 'vms/base', '2G')).toMatchObject({ code: 0, out: 'added volume vms/base (2 GiB)\n' });
    expect(await pvc('storage', 'volume', 'snapshot', 'add', 'vms/base@gold')).toMatchObject({ code: 0, out: 'added snapshot vms/base@gold\n' });
    expect(await pvc('storage', 'volume', 'clone', 'vms/base@gold', 'web1-disk0')).toMatchObject({ code: 0, out: 'cloned vms/base@gold to vms/web1-disk0 (protected vms/base@gold first)\n' });
    expect((await ceph.volumeInfo('vms', 'web1-disk0')).parent).toEqual({ pool: 'vms', image: 'base', snapshot: 'gold' });
    expect(await pvcJson('storage', 'volume', 'snapshot', 'list', 'vms/base')).toEqual([{ name: 'gold', protected: true, status: null }]);
    expect(await pvcJson('storage', 'volume', 'list', '--pool', 'vms')).toEqual([
      { pool: 'vms', name: 'base', sizeBytes: 2 * GiB, parent: null, usedBy: [], status: null },
      { pool: 'vms', name: 'web1-disk0', sizeBytes: 2 * GiB, parent: 'vms/base@gold', usedBy: [], status: null },
    ]);
    const info = await pvc('storage', 'volume', 'info', 'vms/base');
    expect(info.out).toContain('clones       vms/web1-disk0 (of @gold)');

    // A vm that uses the clone: the clone cannot go, nor can its parent (clones), nor the pool.
    await store.create(layout.vm('web1'), { ...FULL_SPEC, disks: [{ target: 'vda', source: { type: 'rbd', pool: 'vms', image: 'web1-disk0' } }] });
    expect(await pvc('storage', 'volume', 'remove', 'vms/web1-disk0', '--yes')).toEqual({ code: 1, out: '', err: 'pvc: cannot remove volume vms/web1-disk0: it is a disk of vm web1; remove the disk from those vms (or the vms) first\n' });
    expect(await pvc('storage', 'volume', 'remove', 'vms/base', '--yes')).toEqual({ code: 1, out: '', err: 'pvc: cannot remove volume vms/base: it has clones (vms/web1-disk0 (of @gold)); remove those first\n' });
    expect((await pvc('storage', 'pool', 'remove', 'vms', '--force', '--yes')).err).toBe('pvc: cannot remove pool vms: its volumes are used by vms: vms/web1-disk0 (vm web1); remove those disks from the vms first\n');
    expect((await pvc('storage', 'volume', 'snapshot', 'unprotect', 'vms/base@gold')).err).toBe('pvc: cannot unprotect snapshot vms/base@gold: it has clones (vms/web1-disk0), which need it; remove those first\n');
    expect((await pvcJson<Array<{ usedBy: string[] }>>('storage', 'volume', 'list'))[1]?.usedBy).toEqual(['web1']);

    // Past the fullness limit (80 % of the stub's 100 GiB), and a limit that is changed.
    const full = await pvc('storage', 'volume', 'add', 'vms/big', '81G');
    expect(full).toMatchObject({ code: 1, out: '' });
    expect(full.err).toBe('pvc: cannot add volume vms/big: it would fill pool vms to 81.0 %, past the limit of 80 % (0 B stored + 81 GiB new, of 100 GiB)\n');
    expect(await pvc('storage', 'volume', 'resize', 'vms/base', '90G')).toMatchObject({ code: 1 });
    expect(await pvc('storage', 'settings', '--max-fullness', '95')).toMatchObject({ code: 0, out: 'fullness limit: 95 %\n' });
    expect(await pvc('storage', 'volume', 'resize', 'vms/base', '90G')).toMatchObject({ code: 0, out: 'resized volume vms/base from 2 GiB to 90 GiB\n' });
    expect(await pvc('storage', 'volume', 'resize', 'vms/base', '4G')).toMatchObject({ code: 1 });
    expect(await pvc('storage', 'volume', 'resize', 'vms/base', '4G', '--allow-shrink')).toMatchObject({ code: 0 });

    // Once the vm and the clone are gone, everything can go.
    await store.remove(layout.vm('web1'));
    expect(await pvc('storage', 'volume', 'remove', 'vms/web1-disk0', '--yes')).toMatchObject({ code: 0, out: 'removed volume vms/web1-disk0\n' });
    expect((await pvc('storage', 'volume', 'snapshot', 'remove', 'vms/base@gold', '--yes')).err).toContain('it is protected; unprotect it first');
    expect(await pvc('storage', 'volume', 'snapshot', 'unprotect', 'vms/base@gold')).toMatchObject({ code: 0, out: 'unprotected snapshot vms/base@gold\n' });
    expect(await pvc('storage', 'volume', 'snapshot', 'rollback', 'vms/base@gold', '--yes')).toMatchObject({ code: 0 });
    expect(await pvc('storage', 'volume', 'rename', 'vms/base', 'golden')).toMatchObject({ code: 0, out: 'renamed volume vms/base to vms/golden\n' });
    expect((await pvc('storage', 'pool', 'remove', 'vms', '--yes')).err).toBe('pvc: cannot remove pool vms: it holds 1 volume(s) (golden); remove them first, or give --force to remove the pool with all its data\n');
    expect(await pvc('storage', 'pool', 'remove', 'vms', '--force', '--yes')).toMatchObject({ code: 0, out: 'removed pool vms with 1 volume(s)\n' });
    expect((await ceph.listPools()).map((p) => p.name)).not.toContain('vms');
    expect(await store.children(layout.poolsDir())).toEqual([]);
    expect(await pvc('storage', 'volume', 'info', 'vms/golden')).toMatchObject({ code: 1, err: `pvc: volume vms/golden not found in cluster ${cluster}\n` });
  });
});

describe('clones of one snapshot in one call', () => {
  it('clones to many volumes at once; bad input changes nothing; a failed clone leaves the others made', async () => {
    expect(await pvc('storage', 'pool', 'add', 'batch', '--size', '1')).toMatchObject({ code: 0 });
    expect(await pvc('storage', 'volume', 'add', 'batch/golden', '1G')).toMatchObject({ code: 0 });
    expect(await pvc('storage', 'volume', 'snapshot', 'add', 'batch/golden@v1')).toMatchObject({ code: 0 });
    const clonesInCeph = async () => (await ceph.listVolumes('batch')).filter((v) => v.parent?.image === 'golden').map((v) => v.name).sort();
    // Refused before any clone: a volume named twice, a bad name.
    expect(await pvc('storage', 'volume', 'clone', 'batch/golden@v1', 'd1', 'd2', 'd1')).toEqual({ code: 1, out: '', err: 'pvc: volume batch/d1 is named twice\n' });
    expect(await pvc('storage', 'volume', 'clone', 'batch/golden@v1', 'd1', 'bad/na/me')).toMatchObject({ code: 1, out: '', err: expect.stringContaining('bad/na/me') });
    expect(await clonesInCeph()).toEqual([]);

    const names = Array.from({ length: 24 }, (_, i) => `d${String(i).padStart(2, '0')}`);
    const batch = await pvc('storage', 'volume', 'clone', 'batch/golden@v1', ...names);
    expect(batch).toMatchObject({ code: 0, err: '' });
    const lines = batch.out.trim().split('\n');
    expect(lines.map((line) => line.replace(' (protected batch/golden@v1 first)', ''))).toEqual(names.map((n) => `cloned batch/golden@v1 to batch/${n}`));
    // The snapshot is protected once, by one of the clones.
    expect(lines.filter((line) => line.endsWith('(protected batch/golden@v1 first)'))).toHaveLength(1);
    expect(await clonesInCeph()).toEqual(names);

    // One destination exists already: the others are made, that one is reported, exit 1.
    const mixed = await pvc('storage', 'volume', 'clone', 'batch/golden@v1', 'e1', 'd03', 'e2', '--format', 'json');
    expect(mixed.code).toBe(1);
    expect(JSON.parse(mixed.out)).toEqual([
      { volume: 'batch/e1', cloned: true, protectedSource: false },
      { volume: 'batch/d03', cloned: false, error: expect.stringContaining('batch/d03') },
      { volume: 'batch/e2', cloned: true, protectedSource: false },
    ]);
    expect(mixed.err).toBe('pvc: 1 of 3 clones of batch/golden@v1 failed: batch/d03\n');
    expect(await clonesInCeph()).toEqual([...names, 'e1', 'e2'].sort());
    // The later tests count pools and volumes from none.
    expect(await pvc('storage', 'pool', 'remove', 'batch', '--force', '--yes')).toMatchObject({ code: 0 });
  });
});

describe('upload and download', () => {
  it('round-trips the bytes with equal checksums', async () => {
    expect((await pvc('storage', 'pool', 'add', 'images', '--size', '1')).code).toBe(0);
    const source = path.join(sb.dir, 'disk.raw');
    fs.writeFileSync(source, crypto.randomBytes(2 * 1024 * 1024 + 3));
    const up = await pvcJson<{ format: string; fileBytes: number }>('storage', 'volume', 'upload', 'images/disk', source);
    expect(up).toMatchObject({ format: 'raw', fileBytes: 2 * 1024 * 1024 + 3 });
    const out = path.join(sb.dir, 'out.raw');
    expect((await pvc('storage', 'volume', 'download', 'images/disk', out)).code).toBe(0);
    const sum = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    expect(sum(out)).toBe(sum(source));
    expect((await pvc('storage', 'volume', 'download', 'images/disk', out)).err).toContain('the file exists; give --overwrite to replace it');
    expect((await pvc('storage', 'volume', 'download', 'images/disk', out, '--overwrite')).code).toBe(0);
  });
});

describe('osds, status and util', () => {
  it('acts on osds, and shows what the primary refreshed', async () => {
    const file = path.join(sb.dir, 'osd1.img');
    expect(await pvc('storage', 'osd', 'add', file, '--file-size', '4G')).toMatchObject({ code: 0, out: `added osd.1 on ${file}\n` });
    expect((await pvc('storage', 'osd', 'remove', '1', '--yes')).err).toBe('pvc: cannot remove osd.1: it is in; mark it out first (pvc storage osd out 1) and wait until it holds no placement groups\n');
    expect(await pvc('storage', 'osd', 'out', 'osd.1')).toMatchObject({ code: 0, out: 'marked osd.1 out\n' });
    expect(await pvc('storage', 'osd', 'out', '1')).toMatchObject({ code: 0, out: 'osd.1 is already out; nothing changed\n' });
    expect(await pvc('storage', 'osd', 'remove', '1', '--yes')).toMatchObject({ code: 0, out: 'removed osd.1\n' });
    expect((await pvc('storage', 'osd', 'in', '7')).err).toBe('pvc: cannot mark osd.7 in: ceph has no osd.7 (it has osd.0)\n');

    expect(await pvcJson('storage', 'osd', 'list')).toEqual([]);
    expect(await pvc('storage', 'volume', 'snapshot', 'add', 'images/disk@s1')).toMatchObject({ code: 0 });
    expect((await pvc('storage', 'volume', 'snapshot', 'list', 'images/disk')).out.split('\n')[1]).toMatch(/^s1 +no +- +-$/);
    const runnable = new StorageStatusRunnable({ store, layout, ceph, intervalMs: 60_000, refreshTimeoutMs: 10_000 });
    await runnable.start({ node: 'c1', stillPrimary: () => true, log: pino({ level: 'silent' }) });
    try {
      await runnable.refresh();
    } finally {
      await runnable.stop();
    }
    expect(await pvcJson('storage', 'osd', 'list')).toMatchObject([{ id: 0, up: true, in: true, totalBytes: 100 * GiB }]);
    expect((await pvc('storage', 'volume', 'snapshot', 'list', 'images/disk')).out.split('\n')[1]).toMatch(/^s1 +no +\d+(\.\d+)? MiB +yes$/);
    const status = await pvc('storage', 'status');
    expect(status.code).toBe(0);
    expect(status.out).toContain('ceph health         HEALTH_OK');
    expect(status.out).toContain('pools / volumes     1 / 1 managed by pvc');
    expect(status.out).toContain('fullness limit      95 %');
    const util = await pvcJson<{ pools: Array<{ name: string; fullnessPercent: number }>; maxFullnessPercent: number }>('storage', 'util');
    expect(util.maxFullnessPercent).toBe(95);
    expect(util.pools.map((p) => p.name)).toEqual(['images']);
    expect(util.pools[0]?.fullnessPercent).toBeCloseTo(0, 1);
  });
});
