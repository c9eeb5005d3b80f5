// The storage client library against real ZooKeeper (the shared ensemble) and the simulated
// Ceph (daemon/drivers/ceph/sim.ts): what a refusal leaves unchanged, the reservations that keep racing writes under the
// fullness limit, specs kept in step with Ceph (rename with clones, removal of a half-removed
// volume), migration 3, and the primary's status refresh (statuses of pools, volumes and
// snapshots, unmanaged images, no rewrites of unchanged documents, a Ceph that does not answer).
// Snapshot statuses do not keep a snapshot's removal or its volume's rename from going through.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { addPool, removePool } from '../../common/client/storage-pools.ts';
import { listSnapshots, listVolumes, volumeInfo } from '../../common/client/storage-list.ts';
import { addSnapshot, removeSnapshot, setSnapshotProtected } from '../../common/client/storage-snapshots.ts';
import type { StorageTarget } from '../../common/client/storage-target.ts';
import { downloadVolume, uploadVolume } from '../../common/client/storage-transfer.ts';
import { addVolume, cloneVolume } from '../../common/client/storage-volume-add.ts';
import { renameVolume, resizeVolume } from '../../common/client/storage-volume-change.ts';
import { removeVolume } from '../../common/client/storage-volume-remove.ts';
import { setStorageSettings } from '../../common/client/storage-settings.ts';
import { defineVm } from '../../common/client/vm-define.ts';
import { modifyVm } from '../../common/client/vm-modify.ts';
import { PvcError } from '../../common/errors.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { StorageStatusRunnable } from '../../daemon/coordinator/storage-status-runnable.ts';
import { SimCeph } from '../../daemon/drivers/ceph/sim.ts';
import { FULL_SPEC } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, uniqueClusterName } from '../helpers/zk.ts';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
let store: ZkStore;
let layout: ZkLayout;
let ceph: SimCeph;
let target: StorageTarget;

async function rejected(promise: Promise<unknown>): Promise<PvcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PvcError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Every znode under the cluster's storage folder with its value, for "nothing changed" checks. */
async function storageTree(): Promise<Record<string, unknown>> {
  const tree: Record<string, unknown> = {};
  const walk = async (p: string): Promise<void> => {
    const ref = { path: p, codec: { parse: (v: unknown) => v } };
    const found = await store.get(ref);
    tree[p] = found?.value;
    for (const child of await store.children(ref)) await walk(`${p}/${child}`);
  };
  await walk(layout.storageDir().path);
  return tree;
}

beforeEach(async () => {
  store ??= await connectStore(inject('zkHosts'));
  layout = new ZkLayout(uniqueClusterName('storage-client'));
  await migrateSchema(store, layout);
  ceph = new SimCeph();
  target = { store, layout, ceph };
});

afterAll(closeTrackedStores);

describe('migration 3', () => {
  it('creates the storage folders and the default fullness limit', async () => {
    for (const dir of layout.storageDirectories()) expect(await store.get(dir), dir.path).toEqual({ value: {}, version: 0 });
    expect((await store.get(layout.storageSettings()))?.value).toEqual({ maxFullnessPercent: 80 });
  });
});

describe('refusals change nothing', () => {
  it('keeps zookeeper and ceph as they were', async () => {
    // A 100 MiB cluster: an 80 MiB base fits exactly; once 1 MiB of it is written, an 80 MiB clone does not.
    ceph = new SimCeph({ osdSizeBytes: 100 * MiB });
    target = { store, layout, ceph };
    await addPool(target, 'vms', { size: 1 });
    await addVolume(target, { pool: 'vms', volume: 'base' }, 80 * MiB);
    ceph.write('vms', 'base', 0, Buffer.alloc(MiB, 7));
    await addSnapshot(target, { pool: 'vms', volume: 'base', snapshot: 'gold' });
    await store.create(layout.vm('web1'), { ...FULL_SPEC, disks: [{ target: 'vda', source: { type: 'rbd', pool: 'vms', image: 'base' } }] });
    const tree = await storageTree();
    const images = await ceph.listVolumes('vms');
    const refusals: Array<() => Promise<unknown>> = [
      () => addVolume(target, { pool: 'vms', volume: 'huge' }, 90 * MiB),
      () => addVolume(target, { pool: 'nopool', volume: 'x' }, MiB),
      () => addVolume(target, { pool: 'vms', volume: 'base' }, MiB),
      () => removeVolume(target, { pool: 'vms', volume: 'base' }),
      () => renameVolume(target, { pool: 'vms', volume: 'base' }, 'other'),
      () => resizeVolume(target, { pool: 'vms', volume: 'base' }, 40 * MiB),
      () => resizeVolume(target, { pool: 'vms', volume: 'base' }, 200 * MiB),
      () => cloneVolume(target, { pool: 'vms', volume: 'base', snapshot: 'gold' }, { pool: 'vms', volume: 'big' }),
      () => removePool(target, 'vms', { force: true }),
      () => addPool(target, 'vms'),
      () => addPool(target, 'p2', { size: 1, minSize: 2 }),
    ];
    const errors: PvcError[] = [];
    for (const refusal of refusals) errors.push(await rejected(refusal()));
    expect(errors.map((e) => e.message)).toEqual([
      'cannot add volume vms/huge: it would fill pool vms to 91.0 %, past the limit of 80 % (1 MiB stored + 90 MiB new, of 100 MiB)',
      'pool nopool not found in cluster ' + layout.cluster + ' (pvc storage pool list shows the pools pvc manages)',
      `volume vms/base already exists in cluster ${layout.cluster}`,
      'cannot remove volume vms/base: it is a disk of vm web1; remove the disk from those vms (or the vms) first',
      'cannot rename volume vms/base to other: it is a disk of vm web1, which would lose it; change those vms first',
      'cannot resize volume vms/base to 40 MiB: it is 80 MiB, and shrinking cuts off the data at its end; give --allow-shrink if that is meant',
      'cannot resize volume vms/base to 200 MiB: it would fill pool vms to 121.0 %, past the limit of 80 % (1 MiB stored + 120 MiB new, of 100 MiB)',
      'cannot clone vms/base@gold to vms/big: it would fill pool vms to 81.0 %, past the limit of 80 % (1 MiB stored + 80 MiB new, of 100 MiB)',
      'cannot remove pool vms: its volumes are used by vms: vms/base (vm web1); remove those disks from the vms first',
      `pool vms already exists in cluster ${layout.cluster}`,
      'invalid minSize 2 for pool p2: minSize must not be larger than size',
    ]);
    expect(await storageTree()).toEqual(tree);
    expect(await ceph.listVolumes('vms')).toEqual(images);
    // The refused clone did not protect its source.
    expect(await ceph.listSnapshots('vms', 'base')).toEqual([{ name: 'gold', sizeBytes: 80 * MiB, protected: false }]);
  });
});

describe('fullness reservations', () => {
  it('lets at most one of two racing writes through when both would pass alone', async () => {
    ceph = new SimCeph({ osdSizeBytes: 10 * GiB });
    target = { store, layout, ceph };
    await addPool(target, 'vms', { size: 1 });
    // Each write holds its reservation while Ceph works, so the two overlap.
    ceph.faults.setSlow(500);
    const other = await connectStore(inject('zkHosts'));
    const results = await Promise.allSettled([
      addVolume(target, { pool: 'vms', volume: 'a' }, 5 * GiB),
      addVolume({ store: other, layout, ceph }, { pool: 'vms', volume: 'b' }, 5 * GiB),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as Error).message).toMatch(/past the limit of 80 %/);
    // Nothing is left reserved: a write that fits alone passes now. (The other session's removal
    // may reach this session's server a moment later: reads are ordered per session only.)
    await waitFor('no reservation left', async () => (await store.children(layout.reservationsDir())).length === 0, 10_000);
    ceph.faults.clear();
    await setStorageSettings(target, { maxFullnessPercent: 100 });
    await addVolume(target, { pool: 'vms', volume: 'c' }, 5 * GiB);
  });
});

describe('specs follow ceph', () => {
  it('renames a clone parent in the clones, and removes a volume ceph lost', async () => {
    await addPool(target, 'vms', { size: 1 });
    await addVolume(target, { pool: 'vms', volume: 'base' }, GiB);
    await addSnapshot(target, { pool: 'vms', volume: 'base', snapshot: 'gold' });
    const clone = await cloneVolume(target, { pool: 'vms', volume: 'base', snapshot: 'gold' }, { pool: 'vms', volume: 'c1' });
    expect(clone.protectedSource).toBe(true);
    expect((await rejected(setSnapshotProtected(target, { pool: 'vms', volume: 'base', snapshot: 'gold' }, false))).message).toBe(
      'cannot unprotect snapshot vms/base@gold: it has clones (vms/c1), which need it; remove those first',
    );
    await renameVolume(target, { pool: 'vms', volume: 'base' }, 'golden');
    expect((await volumeInfo(target, { pool: 'vms', volume: 'golden' })).snapshots).toEqual([{ name: 'gold', protected: true, status: null }]);
    expect((await listVolumes(target)).map((v) => [v.name, v.parent])).toEqual([
      ['c1', 'vms/golden@gold'],
      ['golden', null],
    ]);
    // A clone in another pool keeps the parent's pool from being removed, even with --force.
    await addPool(target, 'other', { size: 1 });
    await cloneVolume(target, { pool: 'vms', volume: 'golden', snapshot: 'gold' }, { pool: 'other', volume: 'c2' });
    expect((await rejected(removePool(target, 'vms', { force: true }))).message).toBe('cannot remove pool vms: volumes of other pools are clones of its snapshots (other/c2); remove those first');
    await removeVolume(target, { pool: 'other', volume: 'c2' });
    ceph.state.pools.get('vms')?.images.delete('c1'); // an earlier removal stopped between ceph and zookeeper
    expect(await removeVolume(target, { pool: 'vms', volume: 'c1' })).toEqual({ pool: 'vms', name: 'c1', snapshotsRemoved: [], wasInCeph: false });
    expect(await removeVolume(target, { pool: 'vms', volume: 'golden' })).toEqual({ pool: 'vms', name: 'golden', snapshotsRemoved: ['gold'], wasInCeph: true });
    expect(await store.children(layout.volumesDir('vms'))).toEqual([]);
  });

  it('uploads and downloads the same bytes', async () => {
    await addPool(target, 'vms', { size: 1 });
    const dir = fs.mkdtempSync(path.join(inject('testRunDir'), 'storage-client-'));
    const source = path.join(dir, 'img.raw');
    fs.writeFileSync(source, crypto.randomBytes(3 * 1024 * 1024 + 5));
    const progress: number[] = [];
    const result = await uploadVolume(target, { pool: 'vms', volume: 'img' }, source, undefined, { onProgress: (p) => progress.push(p.doneBytes) });
    expect(result).toMatchObject({ format: 'raw', fileBytes: 3 * 1024 * 1024 + 5, spec: { sizeBytes: 3 * 1024 * 1024 + 5, parent: null } });
    expect(progress.at(-1)).toBe(3 * 1024 * 1024 + 5);
    const out = path.join(dir, 'out.raw');
    await downloadVolume(target, { pool: 'vms', volume: 'img' }, out);
    const sum = (file: string): string => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    expect(sum(out)).toBe(sum(source));
    expect((await rejected(downloadVolume(target, { pool: 'vms', volume: 'img' }, out))).message).toContain('the file exists; give --overwrite to replace it');
    const qcow = path.join(dir, 'disguised.img');
    fs.writeFileSync(qcow, Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(100)]));
    expect((await rejected(uploadVolume(target, { pool: 'vms', volume: 'q' }, qcow, undefined))).message).toBe(
      `image file ${qcow} looks like qcow2, not raw: give --image-format qcow2 (or --image-format raw to store it as it is)`,
    );
  });
});

describe('status refresh', () => {
  const log = pino({ level: 'silent' });
  const context = { node: 'c1', stillPrimary: () => true, log };

  it('records statuses (pools, volumes, snapshots) and unmanaged images, rewriting nothing that did not change', async () => {
    // A hung call gives up after 1 s here (the runnable's own bound below is 200 ms).
    ceph = new SimCeph({ timeouts: { queryMs: 1_000 } });
    target = { store, layout, ceph };
    await addPool(target, 'vms', { size: 1 });
    await addVolume(target, { pool: 'vms', volume: 'd0' }, GiB);
    await addSnapshot(target, { pool: 'vms', volume: 'd0', snapshot: 's1' });
    await setSnapshotProtected(target, { pool: 'vms', volume: 'd0', snapshot: 's1' }, true);
    // A protected snapshot pvc recorded that Ceph lost (unprotected and removed behind pvc's back).
    await addSnapshot(target, { pool: 'vms', volume: 'd0', snapshot: 'lost' });
    await setSnapshotProtected(target, { pool: 'vms', volume: 'd0', snapshot: 'lost' }, true);
    await ceph.unprotectSnapshot({ pool: 'vms', image: 'd0', snapshot: 'lost' });
    await ceph.removeSnapshot({ pool: 'vms', image: 'd0', snapshot: 'lost' });
    await ceph.createVolume('vms', 'stray', GiB);
    await ceph.createPool('outside', { pgNum: 8, size: 1, minSize: 1 });
    const runnable = new StorageStatusRunnable({ store, layout, ceph, intervalMs: 60_000, refreshTimeoutMs: 5_000 });
    await runnable.start(context);
    try {
      await runnable.refresh();
      const status = (await store.get(layout.storageStatus()))?.value;
      expect(status?.unmanaged).toEqual({ pools: ['outside'], volumes: ['vms/stray'], poolCount: 1, volumeCount: 1 });
      expect(status?.lastError).toBeNull();
      const volume = await store.get(layout.volumeStatus('vms', 'd0'));
      expect(volume?.value).toEqual({ inCeph: true, sizeBytes: GiB, parent: null, format: 2 });
      expect((await store.get(layout.poolStatus('vms')))?.value).toMatchObject({ inCeph: true, images: 2 });
      expect((await store.get(layout.osd(0)))?.value).toMatchObject({ id: 0, up: true, in: true });
      const s1 = await store.get(layout.snapshotStatus('vms', 'd0', 's1'));
      expect(s1?.value).toEqual({ inCeph: true, sizeBytes: GiB, protected: true });
      expect((await store.get(layout.snapshotStatus('vms', 'd0', 'lost')))?.value).toEqual({ inCeph: false, sizeBytes: 0, protected: false });
      expect((await listSnapshots(target, { pool: 'vms', volume: 'd0' })).map((s) => [s.name, s.status?.inCeph])).toEqual([
        ['lost', false],
        ['s1', true],
      ]);
      await runnable.refresh();
      expect((await store.get(layout.volumeStatus('vms', 'd0')))?.version).toBe(volume?.version);
      expect((await store.get(layout.snapshotStatus('vms', 'd0', 's1')))?.version).toBe(s1?.version);

      // Statuses go with their snapshot (one Ceph lost can be removed: nothing in Ceph protects
      // it), and a rename leaves the next refresh to write them anew.
      await removeSnapshot(target, { pool: 'vms', volume: 'd0', snapshot: 'lost' });
      expect(await store.stat(layout.snapshot('vms', 'd0', 'lost'))).toBeNull();
      await renameVolume(target, { pool: 'vms', volume: 'd0' }, 'd1');
      expect(await store.stat(layout.snapshotStatus('vms', 'd1', 's1'))).toBeNull();
      await runnable.refresh();
      expect((await store.get(layout.snapshotStatus('vms', 'd1', 's1')))?.value).toEqual({ inCeph: true, sizeBytes: GiB, protected: true });

      // A Ceph that does not answer: the error is recorded, the last facts kept.
      ceph.faults.hangNext(1);
      const slow = new StorageStatusRunnable({ store, layout, ceph, intervalMs: 60_000, refreshTimeoutMs: 200 });
      await slow.start(context);
      await slow.refresh();
      await slow.stop();
      const failed = (await store.get(layout.storageStatus()))?.value;
      expect(failed?.lastError).toBe('ceph did not answer within 200 ms');
      expect(failed?.ceph).toEqual(status?.ceph);
    } finally {
      await runnable.stop();
    }
  });
});

describe('vm disks are volumes of their own', () => {
  const rbdDisk = (target: string, image: string) => ({ target, source: { type: 'rbd' as const, pool: 'vms', image } });
  const definition = (name: string, uuid: string, ...disks: Array<ReturnType<typeof rbdDisk>>) => ({ name, uuid, vcpus: 1, memoryMiB: 128, disks });

  it('refuses a missing volume, one volume twice, and another vm\'s volume; changes nothing', async () => {
    await addPool(target, 'vms', { size: 1 });
    await addVolume(target, { pool: 'vms', volume: 'd1' }, GiB);
    await addVolume(target, { pool: 'vms', volume: 'd2' }, GiB);
    expect((await rejected(defineVm(target, definition('a', '1e570000-0000-4000-8000-00000000000a', rbdDisk('vda', 'nope'))))).message).toBe(
      `vm a: disk vda is volume vms/nope, which does not exist in cluster ${layout.cluster}; make it first (pvc storage volume add, clone or upload)`,
    );
    expect((await rejected(defineVm(target, definition('a', '1e570000-0000-4000-8000-00000000000a', rbdDisk('vda', 'd1'), rbdDisk('vdb', 'd1'))))).message).toBe(
      'vm a: disks vda and vdb are both volume vms/d1; give each disk its own volume',
    );
    await defineVm(target, definition('a', '1e570000-0000-4000-8000-00000000000a', rbdDisk('vda', 'd1')));
    const taken = await rejected(defineVm(target, definition('b', '1e570000-0000-4000-8000-00000000000b', rbdDisk('vda', 'd1'))));
    expect(taken.message).toBe('vm b: disk vda is volume vms/d1, which is already a disk of vm a; a volume is the disk of one vm only');
    expect(await store.get(layout.vm('b'))).toBeNull();
    // Modify: a kept disk is not checked again; an added one is.
    await defineVm(target, definition('b', '1e570000-0000-4000-8000-00000000000b', rbdDisk('vda', 'd2')));
    expect((await rejected(modifyVm(target, 'b', definition('b', '1e570000-0000-4000-8000-00000000000b', rbdDisk('vda', 'd2'), rbdDisk('vdb', 'd1'))))).message).toBe(
      'vm b: disk vdb is volume vms/d1, which is already a disk of vm a; a volume is the disk of one vm only',
    );
    expect((await modifyVm(target, 'b', { ...definition('b', '1e570000-0000-4000-8000-00000000000b', rbdDisk('vda', 'd2')), memoryMiB: 256 })).changed).toBe(true);
    expect((await store.get(layout.vm('b')))?.value.disks).toEqual([rbdDisk('vda', 'd2')]);
  });
});
