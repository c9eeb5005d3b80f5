// `pvc storage` on a real single-host Ceph (the run's shared cluster, test/helpers/ceph.ts) and
// the shared ZooKeeper ensemble, through the real CLI (node bin/pvc.js, its own PVC_CONFIG_DIR
// and a connection with the cluster's ceph.conf): the pool, volume, snapshot and clone lifecycle;
// the refusals (a volume a vm spec uses, a volume with clones, a write past the fullness limit);
// upload and download round trips with equal checksums (raw, and qcow2 converted on the way in);
// and the primary's status refresh reading the real cluster.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { StorageStatusRunnable } from '../../daemon/coordinator/storage-status-runnable.ts';
import type { CephCliDriver } from '../../daemon/drivers/ceph/ceph-cli.ts';
import { CEPH_SETUP_TIMEOUT_MS, sharedCephDriver, uniqueCephName } from '../helpers/ceph.ts';
import { FULL_SPEC } from '../helpers/vm-fixtures.ts';
import { closeTrackedStores, connectStore, testAuth, uniqueClusterName } from '../helpers/zk.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PVC = path.join(REPO_ROOT, 'bin', 'pvc.js');
/** A backstop for a hung CLI; a pool create on a busy machine takes seconds. */
const CLI_TIMEOUT_MS = 180_000;
const TEST_TIMEOUT_MS = 600_000;
const MiB = 1024 ** 2;

let store: ZkStore;
let layout: ZkLayout;
let ceph: CephCliDriver;
let dir: string;
const pool = uniqueCephName('pvcst');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function pvc(...args: string[]): Promise<CliResult> {
  const result = await execa('node', [PVC, ...args], {
    cwd: REPO_ROOT,
    env: { PVC_CONFIG_DIR: dir, PVC_CONNECTION: '' },
    reject: false,
    timeout: CLI_TIMEOUT_MS,
    stripFinalNewline: false,
    stdin: 'ignore',
  });
  return { code: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

async function ok(...args: string[]): Promise<string> {
  const result = await pvc(...args);
  expect(result.stderr, args.join(' ')).toBe('');
  expect(result.code, args.join(' ')).toBe(0);
  return result.stdout;
}

async function refused(...args: string[]): Promise<string> {
  const result = await pvc(...args);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(1);
  expect(result.stdout).toBe('');
  return result.stderr;
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

beforeAll(async () => {
  const shared = await sharedCephDriver();
  ceph = shared.driver;
  dir = fs.mkdtempSync(path.join(inject('testRunDir'), 'storage-ceph-'));
  store = await connectStore(inject('zkHosts'));
  layout = new ZkLayout(uniqueClusterName('storage-ceph'));
  await migrateSchema(store, layout);
  const connection = { name: 't', hosts: inject('zkHosts'), cluster: layout.cluster, user: testAuth.user, password: testAuth.password, ceph: { conf: shared.cluster.confPath, id: 'admin' } };
  fs.writeFileSync(path.join(dir, 'connections.yaml'), `default: t\nconnections:\n  - ${JSON.stringify(connection)}\n`, { mode: 0o600 });
}, CEPH_SETUP_TIMEOUT_MS);

afterAll(async () => {
  // Whatever a failed test left: the pool goes with every image in it.
  await ceph?.removePool(pool).catch(() => undefined);
  await closeTrackedStores();
}, CEPH_SETUP_TIMEOUT_MS);

describe('on real ceph', () => {
  it('runs the pool, volume, snapshot and clone lifecycle, refusing what is unsafe', async () => {
    expect(await ok('storage', 'pool', 'add', pool, '--pgs', '8', '--size', '1')).toBe(`added pool ${pool} (8 pgs, size 1, min_size 1)\n`);
    expect((await ceph.listPools()).find((p) => p.name === pool)).toMatchObject({ pgNum: 8, size: 1, minSize: 1, applications: ['rbd'] });

    await ok('storage', 'volume', 'add', `${pool}/base`, '64M');
    await ok('storage', 'volume', 'snapshot', 'add', `${pool}/base@gold`);
    expect(await ok('storage', 'volume', 'clone', `${pool}/base@gold`, 'c1')).toBe(`cloned ${pool}/base@gold to ${pool}/c1 (protected ${pool}/base@gold first)\n`);
    expect(await ceph.volumeInfo(pool, 'c1')).toMatchObject({ sizeBytes: 64 * MiB, parent: { pool, image: 'base', snapshot: 'gold' }, format: 2 });
    expect(await ceph.listSnapshots(pool, 'base')).toMatchObject([{ name: 'gold', protected: true }]);

    // A vm spec using the clone: neither it nor its parent nor the pool may go.
    await store.create(layout.vm('web1'), { ...FULL_SPEC, disks: [{ target: 'vda', source: { type: 'rbd', pool, image: 'c1' } }] });
    expect(await refused('storage', 'volume', 'remove', `${pool}/c1`, '--yes')).toBe(`pvc: cannot remove volume ${pool}/c1: it is a disk of vm web1; remove the disk from those vms (or the vms) first\n`);
    expect(await refused('storage', 'volume', 'remove', `${pool}/base`, '--yes')).toBe(`pvc: cannot remove volume ${pool}/base: it has clones (${pool}/c1 (of @gold)); remove those first\n`);
    expect(await refused('storage', 'pool', 'remove', pool, '--force', '--yes')).toContain('its volumes are used by vms');
    expect(await refused('storage', 'volume', 'snapshot', 'unprotect', `${pool}/base@gold`)).toContain('it has clones');
    // Past the fullness limit: the OSD is a 4 GiB file.
    const full = await refused('storage', 'volume', 'add', `${pool}/huge`, '100G');
    expect(full).toMatch(new RegExp(`^pvc: cannot add volume ${pool}/huge: it would fill pool ${pool} to \\d+\\.\\d %, past the limit of 80 %`));
    expect((await ceph.listVolumes(pool)).map((v) => v.name).sort()).toEqual(['base', 'c1']);

    await ok('storage', 'volume', 'resize', `${pool}/c1`, '128M');
    expect((await ceph.volumeInfo(pool, 'c1')).sizeBytes).toBe(128 * MiB);
    const list = JSON.parse(await ok('storage', 'volume', 'list', '--pool', pool, '--format', 'json')) as Array<{ name: string; sizeBytes: number; parent: string | null; usedBy: string[] }>;
    expect(list.map((v) => [v.name, v.sizeBytes, v.parent, v.usedBy])).toEqual([
      ['base', 64 * MiB, null, []],
      ['c1', 128 * MiB, `${pool}/base@gold`, ['web1']],
    ]);

    // Once the vm is gone: remove the clone, unprotect, roll back, rename, and the pool with --force.
    await store.remove(layout.vm('web1'));
    await ok('storage', 'volume', 'remove', `${pool}/c1`, '--yes');
    await ok('storage', 'volume', 'snapshot', 'unprotect', `${pool}/base@gold`);
    await ok('storage', 'volume', 'snapshot', 'rollback', `${pool}/base@gold`, '--yes');
    await ok('storage', 'volume', 'rename', `${pool}/base`, 'golden');
    expect((await ceph.listVolumes(pool)).map((v) => v.name)).toEqual(['golden']);
    expect(JSON.parse(await ok('storage', 'volume', 'snapshot', 'list', `${pool}/golden`, '--format', 'json'))).toEqual([{ name: 'gold', protected: false, status: null }]);
  }, TEST_TIMEOUT_MS);

  it('uploads and downloads the same bytes, raw and from qcow2', async () => {
    const raw = path.join(dir, 'disk.raw');
    const data = crypto.randomBytes(6 * MiB);
    data.write('RBD-DISK-MARKER', 0); // starts like no image container, so it uploads as raw
    fs.writeFileSync(raw, data);
    const up = JSON.parse(await ok('storage', 'volume', 'upload', `${pool}/img-raw`, raw, '--format', 'json')) as { format: string; spec: { sizeBytes: number } };
    expect(up).toMatchObject({ format: 'raw', spec: { sizeBytes: 6 * MiB } });
    const out = path.join(dir, 'out.raw');
    await ok('storage', 'volume', 'download', `${pool}/img-raw`, out);
    expect(sha256(out)).toBe(sha256(raw));

    const qcow = path.join(dir, 'disk.qcow2');
    await execa('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow], { timeout: 60_000 });
    const fromQcow = JSON.parse(await ok('storage', 'volume', 'upload', `${pool}/img-qcow`, qcow, '--format', 'json')) as { format: string; spec: { sizeBytes: number } };
    expect(fromQcow).toMatchObject({ format: 'qcow2', spec: { sizeBytes: 6 * MiB } });
    const outQcow = path.join(dir, 'out-qcow.raw');
    await ok('storage', 'volume', 'download', `${pool}/img-qcow`, outQcow);
    expect(sha256(outQcow)).toBe(sha256(raw));
    expect(await refused('storage', 'volume', 'download', `${pool}/img-qcow`, outQcow)).toContain('the file exists; give --overwrite to replace it');
  }, TEST_TIMEOUT_MS);

  it('clones a fresh golden image many times at once: every clone lands, one of them protected it', async () => {
    await ok('storage', 'volume', 'add', `${pool}/fresh`, '16M');
    await ok('storage', 'volume', 'snapshot', 'add', `${pool}/fresh@gold`);
    const clones = ['f1', 'f2', 'f3', 'f4'];
    const results = await Promise.all(clones.map((name) => pvc('storage', 'volume', 'clone', `${pool}/fresh@gold`, name)));
    expect(results.map((r) => [r.code, r.stderr])).toEqual(clones.map(() => [0, '']));
    expect(results.filter((r) => r.stdout.includes('(protected')).length).toBe(1);
    expect((await ceph.listVolumes(pool)).map((v) => v.name).filter((n) => clones.includes(n)).sort()).toEqual(clones);
    for (const name of clones) await ok('storage', 'volume', 'remove', `${pool}/${name}`, '--yes');
    await ok('storage', 'volume', 'snapshot', 'unprotect', `${pool}/fresh@gold`);
    await ok('storage', 'volume', 'remove', `${pool}/fresh`, '--yes');
  }, TEST_TIMEOUT_MS);

  it('refreshes status from the real cluster, and removes the pool with everything in it', async () => {
    await ceph.createVolume(pool, 'stray', 8 * MiB);
    const runnable = new StorageStatusRunnable({ store, layout, ceph, intervalMs: 600_000, refreshTimeoutMs: 60_000 });
    await runnable.start({ node: 'c1', stillPrimary: () => true, log: pino({ level: 'silent' }) });
    try {
      await runnable.refresh();
    } finally {
      await runnable.stop();
    }
    const status = (await store.get(layout.storageStatus()))?.value;
    expect(status?.lastError).toBeNull();
    expect(status?.ceph?.monitorsInQuorum).toEqual(['a']);
    expect(status?.ceph?.osds).toMatchObject({ total: 1, up: 1, in: 1 });
    expect(status?.unmanaged.volumes).toContain(`${pool}/stray`);
    expect((await store.get(layout.volumeStatus(pool, 'golden')))?.value).toEqual({ inCeph: true, sizeBytes: 64 * MiB, parent: null, format: 2 });
    expect((await store.get(layout.snapshotStatus(pool, 'golden', 'gold')))?.value).toEqual({ inCeph: true, sizeBytes: 64 * MiB, protected: false });
    expect((await store.get(layout.poolStatus(pool)))?.value).toMatchObject({ inCeph: true, pgNum: 8, size: 1, images: 4 });
    const osds = JSON.parse(await ok('storage', 'osd', 'list', '--format', 'json')) as Array<{ id: number; up: boolean }>;
    expect(osds).toMatchObject([{ id: 0, up: true, in: true }]);
    expect(await ok('storage', 'status')).toMatch(/ceph health +HEALTH_(OK|WARN)/);
    const util = JSON.parse(await ok('storage', 'util', '--format', 'json')) as { pools: Array<{ name: string; status: { storedBytes: number } }> };
    expect(util.pools.find((p) => p.name === pool)?.status.storedBytes).toBeGreaterThan(0);

    expect(await refused('storage', 'pool', 'remove', pool, '--yes')).toContain('give --force to remove the pool with all its data');
    expect(await ok('storage', 'pool', 'remove', pool, '--force', '--yes')).toBe(`removed pool ${pool} with 4 volume(s)\n`);
    expect((await ceph.listPools()).map((p) => p.name)).not.toContain(pool);
    expect(await store.children(layout.poolsDir())).toEqual([]);
  }, TEST_TIMEOUT_MS);
});
