// The IPMI driver contract: one suite, run against the simulated BMCs (ipmi-sim.test.ts) and
// against real ipmi_sim processes through ipmitool (ipmi-ipmitool.test.ts), so the simulation
// cannot drift from what a real BMC and ipmitool do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpmiError, type BmcTarget, type IpmiDriver, type PowerState } from '../../daemon/drivers/ipmi/port.ts';
import { waitFor } from '../helpers/wait.ts';

export interface IpmiHarness {
  driver: IpmiDriver;
  /** A BMC that starts powered on. */
  target: BmcTarget;
  /** A BMC that does not answer at all. */
  silent: BmcTarget;
  /** Power changes the BMC acted out, in order (recorded by its callback). */
  events: Array<{ state: PowerState }>;
  stop(): Promise<void>;
}

export function ipmiContract(label: string, makeHarness: () => Promise<IpmiHarness>): void {
  describe(`ipmi driver contract: ${label}`, () => {
    let h: IpmiHarness;
    beforeAll(async () => {
      h = await makeHarness();
    }, 60_000);
    afterAll(async () => {
      await h?.stop();
    });

    it('reads the power state of a running node', async () => {
      expect(await h.driver.powerStatus(h.target)).toBe('on');
    });

    it('powers off, and the callback has acted before the call returns', async () => {
      const before = h.events.length;
      await h.driver.powerOff(h.target);
      expect(h.events.slice(before)).toEqual([{ state: 'off' }]);
      expect(await h.driver.powerStatus(h.target)).toBe('off');
    });

    it('accepts power off again when already off, without acting twice', async () => {
      const before = h.events.length;
      await h.driver.powerOff(h.target);
      expect(await h.driver.powerStatus(h.target)).toBe('off');
      expect(h.events.length).toBe(before);
    });

    it('powers on', async () => {
      await h.driver.powerOn(h.target);
      expect(await h.driver.powerStatus(h.target)).toBe('on');
      expect(h.events.at(-1)).toEqual({ state: 'on' });
    });

    it('power cycles: off, then on again', async () => {
      const before = h.events.length;
      await h.driver.powerCycle(h.target);
      await waitFor('power back on after the cycle', async () => (await h.driver.powerStatus(h.target)) === 'on', 10_000);
      await waitFor('both changes acted out', () => h.events.length >= before + 2, 10_000);
      expect(h.events.slice(before)).toEqual([{ state: 'off' }, { state: 'on' }]);
    });

    it('refuses a wrong password without naming it', async () => {
      const secret = 'wr0ng-secret-xyz';
      const error = await h.driver.powerStatus({ ...h.target, password: secret }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IpmiError);
      expect((error as IpmiError).kind).toBe('no-session');
      expect((error as IpmiError).message).not.toContain(secret);
      expect((error as IpmiError).message).not.toContain(h.target.password);
      expect((error as IpmiError).message).toContain(`${h.target.host}:${h.target.port}`);
    });

    it('reports a silent BMC as no session (or a timeout), not as a power state', async () => {
      const error = await h.driver.powerOff(h.silent).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IpmiError);
      expect(['no-session', 'timeout']).toContain((error as IpmiError).kind);
    });
  });
}
