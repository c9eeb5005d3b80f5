// The Ceph driver contract: one suite, run against the simulation (ceph-sim.test.ts) and against
// the real cluster of the test run (ceph-real.test.ts), so the simulation cannot drift from what
// Ceph does. Tests run in order and share this file's pools (pool creation takes seconds).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../common/exec.ts';
import { CephError, type CephDriver, type CephErrorKind, type TransferProgress } from '../../daemon/drivers/ceph/port.ts';
import type { OpenImage } from '../helpers/ceph-clients.ts';
import { TEST_POOL_SETTINGS, uniqueCephName } from '../helpers/ceph.ts';
import { waitFor } from '../helpers/wait.ts';

export interface CephHarness {
  driver: CephDriver;
  /** A folder of this test file's own, for image files. */
  workDir: string;
  /** Another client takes an advisory lock on the image (rbd lock add). */
  holdLock(pool: string, image: string, id: string): Promise<void>;
  /** Another client opens the image (a watcher, like a running QEMU). */
  open(pool: string, image: string): Promise<OpenImage>;
  /** Another client writes `length` bytes of `byte` at `offset`. */
  fill(pool: string, image: string, offset: number, length: number, byte: number): Promise<void>;
  /** Where the OSD test puts its backing file; null skips the test. */
  osdFileDir: string | null;
  /**
   * Whether the cluster is this suite's alone, so that a test may destroy data on it (a forced OSD
   * removal). A cluster other test files share must never lose a placement group.
   */
  mayLoseData: boolean;
  /** Bound for what settles over time (placement groups moving, a fenced client's watch dropped). */
  settleTimeoutMs: number;
  stop(): Promise<void>;
}

export interface CephContractOptions {
  testTimeoutMs?: number;
  setupTimeoutMs?: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TRANSFER_TIMEOUT_MS = 120_000;

async function expectError(call: Promise<unknown>, kind: CephErrorKind, subjectPart?: string): Promise<CephError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CephError);
  const cephError = error as CephError;
  expect({ kind: cephError.kind, message: cephError.message }).toMatchObject({ kind });
  if (subjectPart !== undefined) expect(cephError.message).toContain(subjectPart);
  return cephError;
}

/**
 * A qcow2 image whose header and tables read fine (qemu-img info succeeds) but whose first data
 * cluster points at an unaligned offset, so reading it fails with EIO: the conversion fails after
 * the import has created the volume. (A truncated file would not do: reads past its end are zeros.)
 */
function corruptFirstCluster(qcow2: Buffer): Buffer {
  const image = Buffer.from(qcow2);
  const l1TableOffset = Number(image.readBigUInt64BE(40));
  const l2TableOffset = Number(image.readBigUInt64BE(l1TableOffset) & 0x00ff_ffff_ffff_fe00n);
  image.writeBigUInt64BE((1n << 63n) | 0x200n, l2TableOffset);
  return image;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function cephContract(label: string, createHarness: () => Promise<CephHarness>, options: CephContractOptions = {}): void {
  describe(`ceph driver contract: ${label}`, { timeout: options.testTimeoutMs }, () => {
    let h: CephHarness;
    let d: CephDriver;
    const pool = uniqueCephName('cc');
    const other = uniqueCephName('cc2');
    const snap = (image: string, snapshot: string) => ({ pool, image, snapshot });

    beforeAll(async () => {
      h = await createHarness();
      d = h.driver;
    }, options.setupTimeoutMs);

    afterAll(async () => {
      for (const name of [pool, other]) await d?.removePool(name).catch(() => undefined);
      await h?.stop();
    }, options.setupTimeoutMs);

    it('reports the cluster: fsid, health, a monitor in quorum, OSDs up', async () => {
      const status = await d.status();
      expect(status.fsid).toMatch(/^[0-9a-f-]{36}$/);
      expect(['HEALTH_OK', 'HEALTH_WARN', 'HEALTH_ERR']).toContain(status.health);
      expect(status.monitorsInQuorum.length).toBeGreaterThanOrEqual(1);
      expect(status.osds.up).toBeGreaterThanOrEqual(1);
      expect(status.bytes.total).toBeGreaterThan(0);
    });

    it('creates pools with rbd enabled; refuses a duplicate, bad names and bad settings', async () => {
      await Promise.all([d.createPool(pool, TEST_POOL_SETTINGS), d.createPool(other, TEST_POOL_SETTINGS)]);
      const found = (await d.listPools()).find((p) => p.name === pool);
      expect(found).toMatchObject({ name: pool, pgNum: 8, size: 1, minSize: 1 });
      expect(found?.applications).toContain('rbd');
      await expectError(d.createPool(pool, TEST_POOL_SETTINGS), 'exists', pool);
      await expectError(d.createPool('a/b', TEST_POOL_SETTINGS), 'invalid', 'a/b');
      await expectError(d.createPool('-x', TEST_POOL_SETTINGS), 'invalid');
      await expectError(d.createPool(uniqueCephName('cc-bad'), { pgNum: 8, size: 1, minSize: 2 }), 'invalid');
      expect((await d.poolUsage()).map((u) => u.pool)).toContain(pool);
    });

    it('sets pool settings; unknown pools are not found', async () => {
      await d.setPool(other, { size: 2, minSize: 1 });
      expect((await d.listPools()).find((p) => p.name === other)).toMatchObject({ size: 2, minSize: 1 });
      await d.setPool(other, { size: 1 });
      await expectError(d.setPool(other, { minSize: 3 }), 'invalid');
      await expectError(d.setPool('cc-no-such-pool', { size: 1 }), 'not-found', 'cc-no-such-pool');
      await expectError(d.removePool('cc-no-such-pool'), 'not-found', 'cc-no-such-pool');
    });

    it('creates, lists, resizes and renames volumes', async () => {
      await d.createVolume(pool, 'v1', 64 * MiB);
      expect(await d.volumeInfo(pool, 'v1')).toMatchObject({ pool, name: 'v1', sizeBytes: 64 * MiB, parent: null, format: 2 });
      expect((await d.volumeInfo(pool, 'v1')).features).toContain('layering');
      expect((await d.listVolumes(pool)).find((v) => v.name === 'v1')).toMatchObject({ sizeBytes: 64 * MiB, parent: null, format: 2 });
      await d.resizeVolume(pool, 'v1', 128 * MiB, false);
      await expectError(d.resizeVolume(pool, 'v1', 32 * MiB, false), 'invalid', `${pool}/v1`);
      await d.resizeVolume(pool, 'v1', 32 * MiB, true);
      expect((await d.volumeInfo(pool, 'v1')).sizeBytes).toBe(32 * MiB);
      await d.createVolume(pool, 'v2', MiB);
      await expectError(d.renameVolume(pool, 'v1', 'v2'), 'exists');
      await d.renameVolume(pool, 'v2', 'v3');
      expect((await d.listVolumes(pool)).map((v) => v.name)).toEqual(['v1', 'v3']);
    });

    it('refuses duplicates, bad sizes and names; unknown volumes are not found', async () => {
      await expectError(d.createVolume(pool, 'v1', MiB), 'exists', `${pool}/v1`);
      await expectError(d.createVolume(pool, 'v0', 0), 'invalid', `${pool}/v0`);
      await expectError(d.createVolume(pool, 'a@b', MiB), 'invalid', 'a@b');
      await expectError(d.createVolume('cc-no-such-pool', 'v', MiB), 'not-found', 'cc-no-such-pool');
      await expectError(d.volumeInfo(pool, 'ghost'), 'not-found', `${pool}/ghost`);
      await expectError(d.removeVolume(pool, 'ghost'), 'not-found', `${pool}/ghost`);
      await expectError(d.renameVolume(pool, 'ghost', 'ghost2'), 'not-found', `${pool}/ghost`);
      await expectError(d.listVolumes('cc-no-such-pool'), 'not-found');
    });

    it('snapshots: create, list, protect; duplicates and double protection refused', async () => {
      await d.createSnapshot(snap('v1', 'gold'));
      await d.createSnapshot(snap('v1', 'plain'));
      await expectError(d.createSnapshot(snap('v1', 'gold')), 'exists', `${pool}/v1@gold`);
      await d.protectSnapshot(snap('v1', 'gold'));
      await expectError(d.protectSnapshot(snap('v1', 'gold')), 'busy', `${pool}/v1@gold`);
      await expectError(d.unprotectSnapshot(snap('v1', 'plain')), 'invalid', `${pool}/v1@plain`);
      const snaps = (await d.listSnapshots(pool, 'v1')).sort((a, b) => a.name.localeCompare(b.name));
      expect(snaps).toEqual([
        { name: 'gold', sizeBytes: 32 * MiB, protected: true },
        { name: 'plain', sizeBytes: 32 * MiB, protected: false },
      ]);
      // The pool's listing carries the same snapshots (the storage refresh reads them from it).
      const listed = await d.listVolumes(pool);
      expect(listed.find((v) => v.name === 'v1')?.snapshots).toEqual(snaps);
      expect(listed.find((v) => v.name === 'v3')?.snapshots).toEqual([]);
      await expectError(d.listSnapshots(pool, 'ghost'), 'not-found', `${pool}/ghost`);
      await expectError(d.protectSnapshot(snap('v1', 'ghost')), 'not-found', `${pool}/v1@ghost`);
    });

    it('clones a protected snapshot (layering, format 2), in the same pool and in another', async () => {
      await d.cloneVolume(snap('v1', 'gold'), pool, 'c1');
      await d.cloneVolume(snap('v1', 'gold'), other, 'c2');
      expect(await d.volumeInfo(pool, 'c1')).toMatchObject({ sizeBytes: 32 * MiB, format: 2, parent: { pool, image: 'v1', snapshot: 'gold' } });
      expect((await d.listVolumes(other)).find((v) => v.name === 'c2')?.parent).toEqual({ pool, image: 'v1', snapshot: 'gold' });
      expect(await d.listClones(snap('v1', 'gold'))).toEqual(expect.arrayContaining([{ pool, image: 'c1' }, { pool: other, image: 'c2' }]));
      expect(await d.listClones(snap('v1', 'plain'))).toEqual([]);
    });

    it('refuses to clone an unprotected or missing snapshot, or onto an existing name', async () => {
      await expectError(d.cloneVolume(snap('v1', 'plain'), pool, 'c9'), 'invalid', `${pool}/v1@plain`);
      await expectError(d.cloneVolume(snap('v1', 'ghost'), pool, 'c9'), 'not-found', `${pool}/v1@ghost`);
      await expectError(d.cloneVolume(snap('v1', 'gold'), pool, 'v3'), 'exists', `${pool}/v3`);
      await expectError(d.listClones(snap('v1', 'ghost')), 'not-found');
      expect((await d.listVolumes(pool)).map((v) => v.name)).not.toContain('c9');
    });

    it('busy: a snapshot with clones, a protected snapshot, a volume with snapshots', async () => {
      await expectError(d.unprotectSnapshot(snap('v1', 'gold')), 'busy', `${pool}/v1@gold`);
      await expectError(d.removeSnapshot(snap('v1', 'gold')), 'busy', `${pool}/v1@gold`);
      await expectError(d.removeVolume(pool, 'v1'), 'busy', `${pool}/v1`);
      await d.removeVolume(pool, 'c1');
      await d.removeVolume(other, 'c2');
      await expectError(d.removeSnapshot(snap('v1', 'gold')), 'busy', `${pool}/v1@gold`);
      await d.unprotectSnapshot(snap('v1', 'gold'));
      await d.removeSnapshot(snap('v1', 'gold'));
      await d.removeSnapshot(snap('v1', 'plain'));
      await expectError(d.removeSnapshot(snap('v1', 'plain')), 'not-found', `${pool}/v1@plain`);
      await d.removeVolume(pool, 'v1');
      expect((await d.listVolumes(pool)).map((v) => v.name)).toEqual(['v3']);
    });

    describe('import and export', () => {
      let rawFile: string;

      beforeAll(async () => {
        mkdirSync(h.workDir, { recursive: true });
        // 4 MiB: random at the start and the end, zeros between (rbd import skips them).
        const data = Buffer.alloc(4 * MiB);
        for (const offset of [0, 3 * MiB]) for (let i = 0; i < MiB; i += 1) data[offset + i] = (i * 131 + offset / MiB) % 251;
        rawFile = path.join(h.workDir, 'disk.raw');
        writeFileSync(rawFile, data);
      });

      it('raw: imports and exports the same bytes, with progress up to the total', async () => {
        const progress: TransferProgress[] = [];
        await d.importVolume(pool, 'raw1', rawFile, 'raw', { timeoutMs: TRANSFER_TIMEOUT_MS, onProgress: (p) => progress.push(p) });
        expect(progress.at(-1)).toEqual({ doneBytes: 4 * MiB, totalBytes: 4 * MiB });
        expect((await d.volumeInfo(pool, 'raw1')).sizeBytes).toBe(4 * MiB);
        const out = path.join(h.workDir, 'raw1.out');
        const exported: TransferProgress[] = [];
        await d.exportVolume(pool, 'raw1', out, { timeoutMs: TRANSFER_TIMEOUT_MS, onProgress: (p) => exported.push(p) });
        expect(sha256(out)).toBe(sha256(rawFile));
        expect(exported.at(-1)).toEqual({ doneBytes: 4 * MiB, totalBytes: 4 * MiB });
      });

      for (const format of ['qcow2', 'vmdk', 'vdi'] as const) {
        it(`${format}: converts on import; the export equals the raw original`, async () => {
          const image = path.join(h.workDir, `disk.${format}`);
          await run('qemu-img', ['convert', '-f', 'raw', '-O', format, rawFile, image], { timeoutMs: TRANSFER_TIMEOUT_MS });
          await d.importVolume(pool, `from-${format}`, image, format, { timeoutMs: TRANSFER_TIMEOUT_MS });
          const out = path.join(h.workDir, `from-${format}.out`);
          await d.exportVolume(pool, `from-${format}`, out, { timeoutMs: TRANSFER_TIMEOUT_MS });
          expect(sha256(out)).toBe(sha256(rawFile));
        });
      }

      it('refuses an existing volume or file, a missing source or volume, a wrong format', async () => {
        const opts = { timeoutMs: TRANSFER_TIMEOUT_MS };
        await expectError(d.importVolume(pool, 'raw1', rawFile, 'raw', opts), 'exists', `${pool}/raw1`);
        await expectError(d.importVolume(pool, 'x1', path.join(h.workDir, 'missing.raw'), 'raw', opts), 'not-found', 'missing.raw');
        await expectError(d.importVolume(pool, 'x2', rawFile, 'qcow2', opts), 'invalid', rawFile);
        await expectError(d.exportVolume(pool, 'raw1', rawFile, opts), 'exists', rawFile);
        await expectError(d.exportVolume(pool, 'ghost', path.join(h.workDir, 'ghost.out'), opts), 'not-found', `${pool}/ghost`);
        expect((await d.listVolumes(pool)).map((v) => v.name)).not.toEqual(expect.arrayContaining(['x1', 'x2']));
      });

      it('removes a partial import when the conversion fails after the volume was created', async () => {
        const broken = path.join(h.workDir, 'broken.qcow2');
        writeFileSync(broken, corruptFirstCluster(readFileSync(path.join(h.workDir, 'disk.qcow2'))));
        await expectError(d.importVolume(pool, 'broken', broken, 'qcow2', { timeoutMs: TRANSFER_TIMEOUT_MS }), 'failed');
        expect((await d.listVolumes(pool)).map((v) => v.name)).not.toContain('broken');
      });

      it('rolls a volume back to a snapshot: bytes and size', async () => {
        await d.createSnapshot(snap('raw1', 'before'));
        await h.fill(pool, 'raw1', 0, 64 * 1024, 0xab);
        await d.resizeVolume(pool, 'raw1', 8 * MiB, false);
        const changed = path.join(h.workDir, 'raw1.changed');
        await d.exportVolume(pool, 'raw1', changed, { timeoutMs: TRANSFER_TIMEOUT_MS });
        expect(readFileSync(changed).subarray(0, 4)).toEqual(Buffer.from([0xab, 0xab, 0xab, 0xab]));
        await d.rollbackSnapshot(snap('raw1', 'before'));
        expect((await d.volumeInfo(pool, 'raw1')).sizeBytes).toBe(4 * MiB);
        const back = path.join(h.workDir, 'raw1.back');
        await d.exportVolume(pool, 'raw1', back, { timeoutMs: TRANSFER_TIMEOUT_MS });
        expect(sha256(back)).toBe(sha256(rawFile));
        await expectError(d.rollbackSnapshot(snap('raw1', 'ghost')), 'not-found', `${pool}/raw1@ghost`);
        await d.removeSnapshot(snap('raw1', 'before'));
      });
    });

    it('locks: listed with holder and address; they block writes and removal; removed by id and locker', async () => {
      await d.createVolume(pool, 'locked', 4 * MiB);
      expect(await d.listLocks(pool, 'locked')).toEqual([]);
      await h.holdLock(pool, 'locked', 'pvc-test-lock');
      const [lock, ...more] = await d.listLocks(pool, 'locked');
      expect(more).toEqual([]);
      expect(lock).toMatchObject({ id: 'pvc-test-lock', locker: expect.stringMatching(/^client\.\d+$/), address: expect.stringMatching(/^127\.0\.0\.1:\d+\/\d+$/) });
      await expectError(d.removeVolume(pool, 'locked'), 'busy', `${pool}/locked`);
      await expectError(d.resizeVolume(pool, 'locked', 8 * MiB, false), 'busy', `${pool}/locked`);
      await expectError(d.removeLock(pool, 'locked', { id: 'pvc-test-lock', locker: 'client.1' }), 'not-found', `${pool}/locked`);
      await d.removeLock(pool, 'locked', { id: 'pvc-test-lock', locker: lock?.locker ?? '' });
      expect(await d.listLocks(pool, 'locked')).toEqual([]);
      await expectError(d.listLocks(pool, 'ghost'), 'not-found', `${pool}/ghost`);
    });

    it('watchers and the blocklist: an open image is busy; fencing its client drops the watch', async () => {
      const opened = await h.open(pool, 'locked');
      try {
        expect((await d.listWatchers(pool, 'locked')).map((w) => w.address)).toContain(opened.address);
        expect((await d.listWatchers(pool, 'locked')).find((w) => w.address === opened.address)?.client).toMatch(/^client\.\d+$/);
        await expectError(d.removeVolume(pool, 'locked'), 'busy', `${pool}/locked`);
        await d.blocklistAdd(opened.address, 600);
        const entry = (await d.blocklistList()).find((b) => b.address === opened.address);
        expect(entry?.until).toEqual(expect.any(String));
        await waitFor('the fenced client to lose its watch', async () => !(await d.listWatchers(pool, 'locked')).some((w) => w.address === opened.address), h.settleTimeoutMs);
        await d.blocklistRemove(opened.address);
        expect((await d.blocklistList()).map((b) => b.address)).not.toContain(opened.address);
        await expectError(d.blocklistRemove(opened.address), 'not-found', opened.address);
        await expectError(d.blocklistAdd('garbage', 60), 'invalid', 'garbage');
      } finally {
        await opened.close();
      }
      await d.removeVolume(pool, 'locked');
    });

    it('gives the cephx key of a client; unknown or bad ids are refused', async () => {
      expect(await d.clientKey('admin')).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      await expectError(d.clientKey('pvc-no-such-client'), 'not-found', 'client.pvc-no-such-client');
      await expectError(d.clientKey('bad id'), 'invalid');
    });

    it('removes a pool; then it is gone', async () => {
      await d.removePool(other);
      expect((await d.listPools()).map((p) => p.name)).not.toContain(other);
    });

    it('OSDs: add on a file, out (placement groups move away), in, out, remove', async (context) => {
      if (h.osdFileDir === null) return context.skip();
      const before = await d.listOsds();
      expect(before.every((o) => o.up && o.in)).toBe(true);
      const file = path.join(h.osdFileDir, `osd-${process.pid}.img`);
      await expectError(d.addOsd({ type: 'file', path: file, sizeBytes: 1024 }), 'invalid');
      const id = await d.addOsd({ type: 'file', path: file, sizeBytes: 2 * GiB });
      expect(before.map((o) => o.id)).not.toContain(id);
      await expectError(d.addOsd({ type: 'file', path: file, sizeBytes: 2 * GiB }), 'exists', file);
      expect((await d.listOsds()).find((o) => o.id === id)).toMatchObject({ up: true, in: true });
      await d.markOsdOut(id);
      await waitFor(`osd.${id} to hold no placement groups`, async () => (await d.listOsds()).find((o) => o.id === id)?.placementGroups === 0, h.settleTimeoutMs);
      await d.markOsdIn(id);
      expect((await d.listOsds()).find((o) => o.id === id)?.in).toBe(true);
      await d.markOsdOut(id);
      await waitFor(`osd.${id} to be removable`, async () => {
        try {
          await d.removeOsd(id);
          return true;
        } catch (error) {
          if (error instanceof CephError && error.kind === 'busy') return false;
          throw error;
        }
      }, h.settleTimeoutMs);
      expect((await d.listOsds()).map((o) => o.id)).not.toContain(id);
      await expectError(d.removeOsd(id), 'not-found', `osd.${id}`);
      await expectError(d.markOsdOut(9999), 'not-found', 'osd.9999');
    });

    it('a forced remove takes an osd that still holds data; without force it is refused', async (context) => {
      if (h.osdFileDir === null || !h.mayLoseData) return context.skip();
      const id = await d.addOsd({ type: 'file', path: path.join(h.osdFileDir, `osd-forced-${process.pid}.img`), sizeBytes: 2 * GiB });
      await waitFor(`osd.${id} to hold placement groups`, async () => ((await d.listOsds()).find((o) => o.id === id)?.placementGroups ?? 0) > 0, h.settleTimeoutMs);
      await expectError(d.removeOsd(id), 'busy', `osd.${id}`);
      expect((await d.listOsds()).map((o) => o.id)).toContain(id);
      await d.removeOsd(id, { force: true });
      expect((await d.listOsds()).map((o) => o.id)).not.toContain(id);
    });
  });
}
