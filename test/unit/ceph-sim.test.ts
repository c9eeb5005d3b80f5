// The simulated Ceph cluster beyond the contract: its faults (fail, hang, slow), the call log,
// fullness accounting from bytes written, placement groups over OSDs, fencing, determinism.
import { describe, expect, it } from 'vitest';
import { CephError } from '../../daemon/drivers/ceph/port.ts';
import { SimCeph } from '../../daemon/drivers/ceph/sim.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const POOL = { pgNum: 8, size: 1, minSize: 1 };

async function failure(call: Promise<unknown>): Promise<CephError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CephError);
  return error as CephError;
}

describe('sim ceph faults', () => {
  it('fails the next call with the given kind, and that call does nothing', async () => {
    const sim = new SimCeph();
    sim.faults.failNext(1, 'unreachable', 'monitors gone');
    const error = await failure(sim.createPool('p', POOL));
    expect({ kind: error.kind, operation: error.operation, subject: error.subject, detail: error.detail }).toEqual({ kind: 'unreachable', operation: 'pool', subject: 'p', detail: 'monitors gone' });
    expect(await sim.listPools()).toEqual([]);
    await sim.createPool('p', POOL);
    expect((await sim.listPools()).map((p) => p.name)).toEqual(['p']);
  });

  it('hangs the next call until its timeout, then fails with timeout', async () => {
    const sim = new SimCeph({ timeouts: { queryMs: 60 } });
    sim.faults.hangNext();
    const started = performance.now();
    expect((await failure(sim.listPools())).kind).toBe('timeout');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(await sim.listPools()).toEqual([]);
  });

  it('a hung transfer fails after its own timeout and leaves no volume', async () => {
    const sim = new SimCeph();
    await sim.createPool('p', POOL);
    sim.faults.hangNext();
    const error = await failure(sim.importVolume('p', 'v', '/nonexistent.raw', 'raw', { timeoutMs: 30 }));
    expect({ kind: error.kind, operation: error.operation }).toEqual({ kind: 'timeout', operation: 'import' });
    expect(await sim.listVolumes('p')).toEqual([]);
  });

  it('makes every call slow until cleared', async () => {
    const sim = new SimCeph();
    sim.faults.setSlow(40);
    const started = performance.now();
    await sim.status();
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    sim.faults.clear();
    expect(sim.faults.slowMs).toBe(0);
    expect(() => sim.faults.setSlow(-1)).toThrow(/slowMs/);
  });

  it('records the calls in order, with their subjects', async () => {
    const sim = new SimCeph();
    await sim.createPool('p', POOL);
    await sim.createVolume('p', 'v', MiB);
    await sim.createSnapshot({ pool: 'p', image: 'v', snapshot: 's' });
    expect(sim.calls).toEqual([
      { operation: 'pool', subject: 'p' },
      { operation: 'volume', subject: 'p/v' },
      { operation: 'snapshot', subject: 'p/v@s' },
    ]);
  });

  it('refuses bad names before the call counts (as the real adapter, which never runs it)', async () => {
    const sim = new SimCeph();
    expect((await failure(sim.createPool('-rf', POOL))).kind).toBe('invalid');
    expect(sim.calls).toEqual([]);
  });
});

describe('sim ceph accounting', () => {
  it('counts written bytes per pool, once per replica, against the OSDs capacity', async () => {
    const sim = new SimCeph({ osds: 2, osdSizeBytes: 10 * GiB });
    await sim.createPool('p', { pgNum: 8, size: 2, minSize: 1 });
    await sim.createVolume('p', 'v', GiB);
    expect((await sim.poolUsage())[0]).toMatchObject({ pool: 'p', storedBytes: 0, usedBytes: 0, maxAvailableBytes: 10 * GiB });
    sim.write('p', 'v', 0, Buffer.alloc(4 * MiB, 1));
    // Zeros are not stored (thin provisioning, as rbd's sparse writes).
    sim.write('p', 'v', 8 * MiB, Buffer.alloc(4 * MiB, 0));
    expect((await sim.poolUsage())[0]).toMatchObject({ storedBytes: 4 * MiB, usedBytes: 8 * MiB, maxAvailableBytes: 10 * GiB - 4 * MiB });
    expect((await sim.status()).bytes).toEqual({ total: 20 * GiB, used: 8 * MiB, available: 20 * GiB - 8 * MiB });
    const osds = await sim.listOsds();
    expect(osds.map((o) => o.usedBytes)).toEqual([4 * MiB, 4 * MiB]);
    expect(osds.map((o) => o.placementGroups)).toEqual([8, 8]);
  });

  it('a clone shares its parent bytes: it adds nothing until written', async () => {
    const sim = new SimCeph();
    await sim.createPool('p', POOL);
    await sim.createVolume('p', 'base', 16 * MiB);
    sim.write('p', 'base', 0, Buffer.alloc(MiB, 7));
    const gold = { pool: 'p', image: 'base', snapshot: 'gold' };
    await sim.createSnapshot(gold);
    await sim.protectSnapshot(gold);
    for (let i = 0; i < 10; i += 1) await sim.cloneVolume(gold, 'p', `vm${i}`);
    expect((await sim.poolUsage())[0]?.storedBytes).toBe(MiB);
    sim.write('p', 'vm0', 0, Buffer.alloc(MiB, 9));
    expect((await sim.poolUsage())[0]?.storedBytes).toBe(2 * MiB);
  });

  it('moves placement groups off an OSD that goes out, and reports a down OSD', async () => {
    const sim = new SimCeph({ osds: 3 });
    await sim.createPool('p', { pgNum: 32, size: 1, minSize: 1 });
    await sim.markOsdOut(2);
    expect((await sim.listOsds()).map((o) => o.placementGroups)).toEqual([16, 16, 0]);
    sim.setOsdUp(1, false);
    const status = await sim.status();
    expect({ health: status.health, checks: status.checks, osds: status.osds }).toEqual({ health: 'HEALTH_WARN', checks: { OSD_DOWN: '1 osds down' }, osds: { total: 3, up: 2, in: 2 } });
    expect((await sim.listOsds()).find((o) => o.id === 1)).toMatchObject({ up: false, totalBytes: 0, placementGroups: 0 });
  });
});

describe('sim ceph clients', () => {
  it('fencing drops the client watches but keeps its locks', async () => {
    const sim = new SimCeph();
    await sim.createPool('p', POOL);
    await sim.createVolume('p', 'v', MiB);
    const watcher = sim.openWatcher('p', 'v');
    const lock = sim.holdLock('p', 'v', 'auto 1');
    expect(() => sim.holdLock('p', 'v', 'other')).toThrow(/already held/);
    await sim.blocklistAdd(watcher.address, 60);
    expect(await sim.listWatchers('p', 'v')).toEqual([]);
    expect(await sim.listLocks('p', 'v')).toEqual([lock]);
  });

  it('gives the same clients, keys and ids on every run', async () => {
    const run = async () => {
      const sim = new SimCeph();
      await sim.createPool('p', POOL);
      await sim.createVolume('p', 'v', MiB);
      return { lock: sim.holdLock('p', 'v', 'x'), key: await sim.clientKey('admin'), pools: await sim.listPools(), status: await sim.status() };
    };
    expect(await run()).toEqual(await run());
  });
});
