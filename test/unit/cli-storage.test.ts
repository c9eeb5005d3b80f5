// `pvc storage` without a cluster: wrong command lines are refused (exit 1, the value named)
// before any connection is tried; the progress bar text; the storage tables; the --ceph-* options of connections.
import { describe, expect, it } from 'vitest';
import { cephAccessOf } from '../../cli/connection.ts';
import { main } from '../../cli/main.ts';
import { progressBarText, progressReporter } from '../../cli/storage-progress.ts';
import { osdListTable, snapshotListTable, volumeListTable } from '../../cli/storage-tables.ts';
import { snapshotView } from '../../common/client/storage-views.ts';
import { validateConnection } from '../../common/connections.ts';
import type { SnapshotStatus } from '../../common/zk/schema.ts';
import { useCliSandbox } from '../helpers/cli-sandbox.ts';
import { thrown } from '../helpers/thrown.ts';

const sb = useCliSandbox(
  'pvc-storage-args-',
  'default: nowhere\nconnections:\n  - {name: nowhere, hosts: "127.0.0.1:1", cluster: c, user: u, password: p, ceph: {conf: /etc/ceph/ceph.conf, id: admin}}\n  - {name: noceph, hosts: "127.0.0.1:1", cluster: c, user: u, password: p}\n',
);

describe('wrong storage command lines exit 1 with pvc: <message>, before connecting', () => {
  it.each([
    [['storage', 'volume', 'add', 'vms/d0', '10'], 'pvc: invalid volume size "10": no unit given; use a size with a unit'],
    [['storage', 'volume', 'add', 'vms/d0', '10X'], 'pvc: invalid volume size "10X"'],
    [['storage', 'volume', 'add', 'vms/d0', '512K'], 'pvc: invalid volume size "512K": use 1 MiB to 1 PiB'],
    [['storage', 'volume', 'add', 'd0', '1G'], 'pvc: invalid volume "d0": use pool/volume'],
    [['storage', 'volume', 'add', 'vms/d 0', '1G'], 'pvc: invalid volume name "d 0"'],
    [['storage', 'volume', 'resize', 'vms/d0', 'big'], 'pvc: invalid volume size "big"'],
    [['storage', 'volume', 'rename', 'vms/d0', 'a/b'], 'pvc: invalid volume name "a/b"'],
    [['storage', 'volume', 'clone', 'vms/base', 'vms/c1'], 'pvc: invalid snapshot "vms/base": use pool/volume@snapshot'],
    [['storage', 'volume', 'remove', 'vms/d0'], 'pvc: not going to remove volume vms/d0 without confirmation: give --yes'],
    [['storage', 'volume', 'upload', 'vms/img', '/x.img', '--image-format', 'iso'], 'pvc: invalid image format "iso": use one of raw, qcow2, vmdk, vdi'],
    [['storage', 'volume', 'upload', 'vms/img', '/x.img', '--timeout-ms', '5'], 'pvc: invalid --timeout-ms "5"'],
    [['storage', 'volume', 'snapshot', 'add', 'vms/d0'], 'pvc: invalid snapshot "vms/d0": use pool/volume@snapshot'],
    [['storage', 'volume', 'snapshot', 'rollback', 'vms/d0@s1'], 'pvc: not going to roll back volume vms/d0 without confirmation: give --yes'],
    [['storage', 'volume', 'list', '--pool', 'a@b'], 'pvc: invalid pool name "a@b"'],
    [['storage', 'pool', 'add', 'vms', '--pgs', '0'], 'pvc: invalid --pgs "0": use a whole number from 1 to 65536'],
    [['storage', 'pool', 'add', 'vms', '--size', '11'], 'pvc: invalid --size "11": use a whole number from 1 to 10'],
    [['storage', 'pool', 'remove', 'vms'], 'pvc: not going to remove pool vms without confirmation: give --yes'],
    [['storage', 'pool', 'set', 'bad/pool', '--pgs', '8'], 'pvc: invalid pool name "bad/pool"'],
    [['storage', 'osd', 'out', 'three'], 'pvc: invalid osd id "three": use a whole number such as 3 (or osd.3)'],
    [['storage', 'osd', 'add', 'relative/file', '--file-size', '4G'], 'pvc: invalid osd device "relative/file": use an absolute path'],
    [['storage', 'osd', 'add', '/tmp/x', '--file-size', '10M'], 'pvc: invalid --file-size "10M": use 1 GiB to 8 PiB'],
    [['storage', 'settings', '--max-fullness', '101'], 'pvc: invalid fullness limit "101": use a whole percentage from 1 to 100'],
    [['--connection', 'noceph', 'storage', 'volume', 'add', 'vms/d0', '1G'], 'pvc: connection noceph has no ceph settings, which this command needs'],
  ])('%j', async (args, message) => {
    expect(await main(args)).toBe(1);
    expect(sb.err).toContain(message);
    expect(sb.out).toBe('');
  });

  it('reaches the connection (exit 2) once the arguments are right', async () => {
    expect(await main(['storage', 'volume', 'list'])).toBe(2);
    expect(sb.err).toContain('cannot reach zookeeper at 127.0.0.1:1');
  });
});

describe('connection ceph settings', () => {
  it('makes paths absolute and defaults the id', () => {
    expect(cephAccessOf({ cephConf: '/etc/ceph/ceph.conf' }, 'admin')).toEqual({ conf: '/etc/ceph/ceph.conf', id: 'admin' });
    expect(cephAccessOf({ cephConf: 'ceph.conf', cephId: 'pvc', cephKeyring: 'k' }, 'admin')).toEqual({ conf: `${process.cwd()}/ceph.conf`, id: 'pvc', keyring: `${process.cwd()}/k` });
    expect(cephAccessOf({}, 'admin')).toBeUndefined();
    expect(thrown(() => cephAccessOf({ cephId: 'admin' }, 'admin')).message).toBe('--ceph-id and --ceph-keyring need --ceph-conf');
  });

  it('refuses a bad id, naming it', () => {
    const base = { name: 'x', hosts: '127.0.0.1:2181', cluster: 'c', user: 'u', password: 'p' };
    expect(thrown(() => validateConnection({ ...base, ceph: { conf: '/c', id: 'client admin' } })).message).toBe(
      'invalid connection ceph.id "client admin": use 1-64 letters, digits, ".", "_" and "-" (the id without "client.")',
    );
    expect(thrown(() => validateConnection({ ...base, ceph: { conf: 'rel', id: 'admin' } })).message).toBe('invalid connection ceph.conf "rel": must be an absolute path');
  });

  it('is saved and listed by pvc connection add/list', async () => {
    expect(await main(['connection', 'add', 'lab', '--hosts', '127.0.0.1:2181', '--cluster', 'lab', '--user', 'u', '--password', 'p', '--ceph-conf', '/etc/ceph/ceph.conf', '--ceph-keyring', '/etc/ceph/k'])).toBe(0);
    sb.out = '';
    expect(await main(['connection', 'list', '--format', 'json'])).toBe(0);
    const lab = (JSON.parse(sb.out) as Array<{ name: string; ceph?: unknown }>).find((c) => c.name === 'lab');
    expect(lab?.ceph).toEqual({ conf: '/etc/ceph/ceph.conf', id: 'admin', keyring: '/etc/ceph/k' });
  });
});

describe('tables and the progress bar', () => {
  it('draws the bar with share, sizes and rate', () => {
    expect(progressBarText('upload vms/img', { doneBytes: 512 * 1024 ** 2, totalBytes: 1024 ** 3 }, 1000)).toBe('upload vms/img [==============>               ] 50% 512 MiB / 1 GiB 512 MiB/s');
    expect(progressBarText('upload vms/img', { doneBytes: 1024 ** 3, totalBytes: 1024 ** 3 }, 2000)).toBe('upload vms/img [==============================] 100% 1 GiB / 1 GiB 512 MiB/s');
    expect(progressBarText('download vms/d0', { doneBytes: 2048, totalBytes: null }, 0)).toBe('download vms/d0 2 KiB');
  });

  it('redraws in place on a terminal, at most every 100 ms, and stays silent otherwise', () => {
    const descriptor = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    try {
      Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
      let now = 0;
      const bar = progressReporter('upload vms/img', () => now);
      bar.onProgress({ doneBytes: 0, totalBytes: 100 });
      now = 50;
      bar.onProgress({ doneBytes: 10, totalBytes: 100 }); // too soon: not drawn
      now = 150;
      bar.onProgress({ doneBytes: 100, totalBytes: 100 });
      bar.finish();
      const lines = sb.err.split('\r').filter(Boolean);
      expect(lines).toHaveLength(2);
      expect(lines[0]).toContain('upload vms/img [                              ] 0% 0 B / 100 B');
      expect(lines[1]).toMatch(/100% 100 B \/ 100 B .*\n$/);
      Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
      sb.err = '';
      const quiet = progressReporter('upload vms/img', () => now);
      quiet.onProgress({ doneBytes: 100, totalBytes: 100 });
      quiet.finish();
      expect(sb.err).toBe('');
    } finally {
      if (descriptor) Object.defineProperty(process.stderr, 'isTTY', descriptor);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
  });

  it('lists volumes and osds for people', () => {
    const text = volumeListTable([{ pool: 'vms', name: 'c1', sizeBytes: 1024 ** 3, parent: 'vms/base@gold', usedBy: ['web1'], status: null }]);
    expect(text.split('\n')).toEqual(['POOL  NAME   SIZE  PARENT         USED BY  IN CEPH', 'vms   c1    1 GiB  vms/base@gold  web1     -']);
    expect(osdListTable([])).toContain('no osds recorded yet');
  });

  it('lists snapshots with what the last refresh found in ceph: absent, present, not refreshed yet', () => {
    const facts = (name: string, protectedInSpec: boolean, status: SnapshotStatus | null) => ({ spec: { value: { name, protected: protectedInSpec }, version: 0 }, status });
    const views = [
      facts('gold', true, { inCeph: true, sizeBytes: 2 * 1024 ** 3, protected: true }),
      facts('lost', false, { inCeph: false, sizeBytes: 0, protected: false }),
      facts('new', false, null),
    ].map(snapshotView);
    expect(views).toEqual([
      { name: 'gold', protected: true, status: { inCeph: true, sizeBytes: 2 * 1024 ** 3, protected: true } },
      { name: 'lost', protected: false, status: { inCeph: false, sizeBytes: 0, protected: false } },
      { name: 'new', protected: false, status: null },
    ]);
    expect(snapshotListTable(views).split('\n')).toEqual([
      'SNAPSHOT  PROTECTED  CEPH SIZE  IN CEPH',
      'gold      yes            2 GiB  yes',
      'lost      no                 -  no',
      'new       no                 -  -',
    ]);
    expect(snapshotListTable([])).toBe('no snapshots');
  });
});
