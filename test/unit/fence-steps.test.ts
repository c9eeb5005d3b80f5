// The outside-world steps of a fence against the simulated BMC (with its faults: unreachable,
// failing, ignoring the power off, lying about the power state) and a fake Ceph.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { VmSpec } from '../../common/zk/schema.ts';
import { blocklistStep, powerOffStep, type FenceStorage } from '../../daemon/coordinator/fence-steps.ts';
import { SimIpmi } from '../../daemon/drivers/ipmi/sim.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';

const log = pino({ level: 'silent' });
const target = { host: '10.0.0.9', port: 623, username: 'fence', password: 'pw-9f8e' };

function bmc() {
  const ipmi = new SimIpmi();
  const events: string[] = [];
  const sim = ipmi.add({ ...target, onPower: (state) => void events.push(state) });
  return { ipmi, sim, events };
}

describe('power-off step', () => {
  it('powers off and confirms by reading the state back', async () => {
    const { ipmi, sim, events } = bmc();
    expect(await powerOffStep(ipmi, target, 500, log)).toEqual({ result: 'done', detail: 'bmc 10.0.0.9:623 reports power off (attempt 1)' });
    expect(events).toEqual(['off']);
    expect(sim.calls).toEqual(['off', 'status']);
  });

  it('is skipped without a bmc', async () => {
    expect(await powerOffStep(new SimIpmi(), null, 500, log)).toEqual({ result: 'skipped', detail: 'the node has no bmc configured' });
  });

  it('retries a failed command, then succeeds', async () => {
    const { ipmi, sim } = bmc();
    sim.faults.failControls = 2;
    expect(await powerOffStep(ipmi, target, 500, log)).toMatchObject({ result: 'done', detail: expect.stringContaining('attempt 3') });
  });

  it('fails for an unreachable bmc, a bmc that ignores the power off, and never names the password', async () => {
    const unreachable = bmc();
    unreachable.sim.faults.unreachable = true;
    const failed = await powerOffStep(unreachable.ipmi, target, 500, log);
    expect(failed).toMatchObject({ result: 'failed', detail: expect.stringMatching(/no-session.*after 3 attempts/) });
    expect(failed.detail).not.toContain(target.password);
    const ignoring = bmc();
    ignoring.sim.faults.ignoresPowerOff = true;
    expect(await powerOffStep(ignoring.ipmi, target, 300, log)).toMatchObject({ result: 'failed', detail: expect.stringMatching(/still reports power on after 300 ms/) });
    expect(ignoring.sim.power).toBe('on');
  });

  it('cannot see through a bmc that lies about the power state: why the blocklist exists', async () => {
    const { ipmi, sim } = bmc();
    sim.faults.ignoresPowerOff = true;
    sim.faults.reportsOff = true;
    expect((await powerOffStep(ipmi, target, 300, log)).result).toBe('done');
    expect(sim.power).toBe('on');
  });
});

const rbdVm = (name: string, image: string): { spec: VmSpec; status: null } => ({ spec: { ...TEST_GUEST_SPEC, name, disks: [{ target: 'vda', source: { type: 'rbd', pool: 'vms', image } }] }, status: null });

function fakeCeph(fail = false): FenceStorage & { added: Array<[string, number]> } {
  const added: Array<[string, number]> = [];
  return {
    added,
    listWatchers: async (_pool, image) => [{ address: `10.0.0.3:0/${image === 'a' ? '111' : '222'}`, client: 'client.1' }],
    listLocks: async (_pool, image) => (image === 'a' ? [{ id: 'auto 1', locker: 'client.1', address: '10.0.0.3:0/111' }] : []),
    blocklistAdd: async (address, expireS) => {
      if (fail) throw new Error('mon unreachable');
      added.push([address, expireS]);
    },
  };
}

describe('blocklist step', () => {
  it('blocklists every watcher and lock holder of the node\'s rbd volumes, and what it reported, once each', async () => {
    const ceph = fakeCeph();
    const outcome = await blocklistStep(ceph, { node: 'n1', vms: [rbdVm('v1', 'a'), rbdVm('v2', 'b')], reported: ['10.0.0.3:0/333'], expireS: 600 }, log);
    expect(outcome.result).toBe('done');
    expect(ceph.added.map(([a]) => a).sort()).toEqual(['10.0.0.3:0/111', '10.0.0.3:0/222', '10.0.0.3:0/333']);
    expect(ceph.added.every(([, s]) => s === 600)).toBe(true);
  });

  it('without ceph: skipped when nothing needs it, failed when rbd volumes do', async () => {
    expect((await blocklistStep(null, { node: 'n1', vms: [{ spec: TEST_GUEST_SPEC, status: null }], reported: [], expireS: 600 }, log)).result).toBe('skipped');
    expect(await blocklistStep(null, { node: 'n1', vms: [rbdVm('v1', 'a')], reported: [], expireS: 600 }, log)).toMatchObject({ result: 'failed', detail: expect.stringMatching(/holds 1 rbd volume/) });
  });

  it('fails when ceph does', async () => {
    expect(await blocklistStep(fakeCeph(true), { node: 'n1', vms: [rbdVm('v1', 'a')], reported: [], expireS: 600 }, log)).toMatchObject({ result: 'failed', detail: expect.stringMatching(/mon unreachable/) });
  });
});
