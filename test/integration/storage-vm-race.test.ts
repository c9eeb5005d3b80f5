// Racing commands over one volume, against real ZooKeeper (the shared ensemble, one session per
// command, so the sessions may sit on different servers) and the simulated Ceph: `volume remove`
// or `rename` against `vm define` or `vm modify`, and two defines, never both pass
// (common/client/vm-volumes.ts has the protocol). Each round starts the second command after a
// different number of ZooKeeper round trips, so the rounds cover many interleavings. Also: the
// `leaving` mark stays when a removal stopped half-way in Ceph (and the same command finishes it),
// and goes again when Ceph refused outright.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { addPool } from '../../common/client/storage-pools.ts';
import { addSnapshot } from '../../common/client/storage-snapshots.ts';
import type { StorageTarget } from '../../common/client/storage-target.ts';
import { addVolume } from '../../common/client/storage-volume-add.ts';
import { renameVolume } from '../../common/client/storage-volume-change.ts';
import { removeVolume } from '../../common/client/storage-volume-remove.ts';
import { defineVm } from '../../common/client/vm-define.ts';
import { modifyVm } from '../../common/client/vm-modify.ts';
import { PvcError } from '../../common/errors.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { SimCeph } from '../../daemon/drivers/ceph/sim.ts';
import { closeTrackedStores, connectStore, uniqueClusterName } from '../helpers/zk.ts';

const MiB = 1024 ** 2;
const ROUNDS = 30;
/** The second command starts after 0 to STAGGER_MAX - 1 round trips of its own session. */
const STAGGER_MAX = 6;

let stores: ZkStore[];
let layout: ZkLayout;
let ceph: SimCeph;
/** One target per racing command, each on its own session; [0] also does the setup and the checks. */
let targets: StorageTarget[];

beforeAll(async () => {
  const hosts = inject('zkHosts');
  stores = await Promise.all([connectStore(hosts), connectStore(hosts), connectStore(hosts)]);
});

beforeEach(async () => {
  layout = new ZkLayout(uniqueClusterName('storage-vm-race'));
  await migrateSchema(stores[0] as ZkStore, layout);
  ceph = new SimCeph();
  targets = stores.map((store) => ({ store, layout, ceph }));
  await addPool(targets[0] as StorageTarget, 'vms', { size: 1 });
});

afterAll(closeTrackedStores);

const t = (i: number): StorageTarget => targets[i] as StorageTarget;
const uuid = (round: number, side: number) => `1e570000-0000-4000-8000-${(round * 4 + side).toString(16).padStart(12, '0')}`;
const definition = (name: string, id: string, image?: string) => ({ name, uuid: id, vcpus: 1, memoryMiB: 128, disks: image ? [{ target: 'vda', source: { type: 'rbd', pool: 'vms', image } }] : [] });

/** Delays a command by `n` round trips of its session: an interleaving, not a wait for anything. */
async function after<T>(target: StorageTarget, n: number, run: () => Promise<T>): Promise<T> {
  for (let i = 0; i < n; i += 1) await target.store.stat(target.layout.vmsDir());
  return run();
}

/**
 * Brings sessions up to date with the writes of the others (the racers with the setup, the
 * checker with the racers): ZooKeeper orders reads per session only, and a write (even a
 * refused create) goes through the leader.
 */
async function sync(...sides: number[]): Promise<void> {
  await Promise.all(sides.map((i) => t(i).store.ensure(layout.vmsDir(), {})));
}
const syncChecker = () => sync(0);
const syncRacers = () => sync(1, 2);

function message(result: PromiseSettledResult<unknown>): string {
  if (result.status === 'fulfilled') return '';
  const reason: unknown = result.reason;
  if (!(reason instanceof PvcError)) throw reason;
  return reason.message;
}

/** The names of the VMs whose specs have `image` as a disk. */
async function vmsWith(image: string): Promise<string[]> {
  const names = await t(0).store.children(layout.vmsDir());
  const specs = await Promise.all(names.map((name) => t(0).store.get(layout.vm(name))));
  return specs.flatMap((s) => (s?.value.disks.some((d) => d.source.type === 'rbd' && d.source.image === image) ? [s.value.name] : [])).sort();
}

describe('volume remove against vm define', () => {
  it('never lets both through', async () => {
    const wins = { define: 0, remove: 0 };
    for (let round = 0; round < ROUNDS; round += 1) {
      const vol = `r${round}`;
      await addVolume(t(0), { pool: 'vms', volume: vol }, MiB);
      await syncRacers();
      const lag = round % STAGGER_MAX;
      const [removed, defined] = await Promise.allSettled([
        after(t(1), round % 2 === 0 ? lag : 0, () => removeVolume(t(1), { pool: 'vms', volume: vol })),
        after(t(2), round % 2 === 0 ? 0 : lag, () => defineVm(t(2), definition(`vm${round}`, uuid(round, 0), vol))),
      ]);
      await syncChecker();
      const spec = await t(0).store.get(layout.volume('vms', vol));
      const inCeph = (await ceph.listVolumes('vms')).some((v) => v.name === vol);
      if (defined.status === 'fulfilled') {
        wins.define += 1;
        expect(message(removed), `round ${round}`).toBe(`cannot remove volume vms/${vol}: it is a disk of vm vm${round}; remove the disk from those vms (or the vms) first`);
        expect(spec?.value.leaving, `round ${round}`).toBeUndefined();
        expect(inCeph, `round ${round}`).toBe(true);
        expect(await vmsWith(vol)).toEqual([`vm${round}`]);
      } else {
        wins.remove += 1;
        expect(removed.status, `round ${round}: ${message(removed)} / ${message(defined)}`).toBe('fulfilled');
        expect(message(defined), `round ${round}`).toMatch(new RegExp(`^vm vm${round}: disk vda is volume vms/${vol}, which (does not exist|is being removed)`));
        expect(spec, `round ${round}`).toBeNull();
        expect(inCeph, `round ${round}`).toBe(false);
        expect(await t(0).store.get(layout.vm(`vm${round}`))).toBeNull();
      }
    }
    expect(wins.define + wins.remove).toBe(ROUNDS);
  });
});

describe('two vm defines of one volume', () => {
  it('let exactly one through', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const vol = `d${round}`;
      await addVolume(t(0), { pool: 'vms', volume: vol }, MiB);
      await syncRacers();
      const lag = round % STAGGER_MAX;
      const results = await Promise.allSettled([
        after(t(1), round % 2 === 0 ? lag : 0, () => defineVm(t(1), definition(`a${round}`, uuid(round, 1), vol))),
        after(t(2), round % 2 === 0 ? 0 : lag, () => defineVm(t(2), definition(`b${round}`, uuid(round, 2), vol))),
      ]);
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i === 0 ? `a${round}` : `b${round}`] : []));
      expect(winners, `round ${round}: ${results.map(message).join(' / ')}`).toHaveLength(1);
      const loser = winners[0] === `a${round}` ? `b${round}` : `a${round}`;
      expect(results.map(message).filter(Boolean)).toEqual([
        `vm ${loser}: disk vda is volume vms/${vol}, which is already a disk of vm ${winners[0]}; a volume is the disk of one vm only`,
      ]);
      await syncChecker();
      expect(await vmsWith(vol)).toEqual(winners);
    }
  });
});

describe('volume rename against vm define and vm modify', () => {
  it('never lets both through', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const vol = `n${round}`;
      const vm = `vm${round}`;
      await addVolume(t(0), { pool: 'vms', volume: vol }, MiB);
      // Odd rounds give the volume to an existing VM by `vm modify`.
      const modify = round % 2 === 1;
      if (modify) await defineVm(t(0), definition(vm, uuid(round, 3)));
      await syncRacers();
      const lag = Math.floor(round / 2) % STAGGER_MAX;
      const [renamed, taken] = await Promise.allSettled([
        after(t(1), round % 4 < 2 ? lag : 0, () => renameVolume(t(1), { pool: 'vms', volume: vol }, `${vol}-new`)),
        after(t(2), round % 4 < 2 ? 0 : lag, (): Promise<unknown> => (modify ? modifyVm(t(2), vm, definition(vm, uuid(round, 3), vol)) : defineVm(t(2), definition(vm, uuid(round, 3), vol)))),
      ]);
      await syncChecker();
      const names = await t(0).store.children(layout.volumesDir('vms'));
      if (taken.status === 'fulfilled') {
        expect(message(renamed), `round ${round}`).toBe(`cannot rename volume vms/${vol} to ${vol}-new: it is a disk of vm ${vm}, which would lose it; change those vms first`);
        expect(names, `round ${round}`).toContain(vol);
        expect(names, `round ${round}`).not.toContain(`${vol}-new`);
        expect(await vmsWith(vol)).toEqual([vm]);
      } else {
        expect(renamed.status, `round ${round}: ${message(renamed)} / ${message(taken)}`).toBe('fulfilled');
        expect(message(taken), `round ${round}`).toMatch(new RegExp(`^vm ${vm}: disk vda is volume vms/${vol}, which (does not exist|is being renamed)`));
        expect(names, `round ${round}`).not.toContain(vol);
        expect((await t(0).store.get(layout.volume('vms', `${vol}-new`)))?.value.leaving).toBeUndefined();
        expect(await vmsWith(vol)).toEqual([]);
      }
    }
  });
});

describe('the leaving mark', () => {
  it('stays when a removal stopped after ceph lost part of the volume, and the same command finishes it', async () => {
    const ref = { pool: 'vms', volume: 'half' };
    await addVolume(t(0), ref, MiB);
    await addSnapshot(t(0), { ...ref, snapshot: 's1' });
    const watcher = ceph.openWatcher('vms', 'half'); // open somewhere: Ceph refuses to remove the image
    await expect(removeVolume(t(0), ref)).rejects.toThrow(/cannot remove volume vms\/half: .*still has watchers/);
    expect(await ceph.listSnapshots('vms', 'half')).toEqual([]); // the snapshot went before the refusal
    expect((await t(0).store.get(layout.volume('vms', 'half')))?.value.leaving).toBe('remove');
    await expect(defineVm(t(0), definition('late', uuid(0, 0), 'half'))).rejects.toThrow(
      'vm late: disk vda is volume vms/half, which is being removed (a volume remove is running, or stopped before it finished: run it again)',
    );
    ceph.closeWatcher('vms', 'half', watcher.address);
    expect(await removeVolume(t(0), ref)).toMatchObject({ wasInCeph: true });
    expect(await t(0).store.get(layout.volume('vms', 'half'))).toBeNull();
  });

  it('goes again when ceph refused outright, so the volume can still be given to a vm', async () => {
    await addVolume(t(0), { pool: 'vms', volume: 'keep' }, MiB);
    const before = await t(0).store.get(layout.volume('vms', 'keep'));
    const watcher = ceph.openWatcher('vms', 'keep');
    await expect(removeVolume(t(0), { pool: 'vms', volume: 'keep' })).rejects.toThrow(/still has watchers/);
    ceph.closeWatcher('vms', 'keep', watcher.address);
    await ceph.createVolume('vms', 'taken', MiB); // an image pvc does not manage
    await expect(renameVolume(t(0), { pool: 'vms', volume: 'keep' }, 'taken')).rejects.toThrow(/cannot rename volume vms\/keep to taken: .*already exists/);
    expect((await t(0).store.get(layout.volume('vms', 'keep')))?.value).toEqual(before?.value);
    await defineVm(t(0), definition('owner', uuid(0, 1), 'keep'));
    expect(await vmsWith('keep')).toEqual(['owner']);
  });
});
