// The DHCP driver contract: one suite, run against the simulation (dnsmasq-sim.test.ts) and
// against real dnsmasq in network namespaces the test creates (dnsmasq-real.test.ts), so the
// simulation cannot drift from what dnsmasq does. Tests run in order and share one instance.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLeaseEvent, type LeaseEvent } from '../../daemon/drivers/dnsmasq/parse.ts';
import { DhcpError, type DhcpDriver, type DhcpErrorKind } from '../../daemon/drivers/dnsmasq/port.ts';
import { reservationFiles } from '../../daemon/drivers/dnsmasq/render.ts';
import { waitFor } from '../helpers/wait.ts';

export interface DhcpHarness {
  driver: DhcpDriver;
  network: string;
  /** A config dnsmasq serves the harness's bridge with: range `range`, no reservations. */
  configText: string;
  range: { start: string; end: string };
  /** A config the adapter refuses to start (or, for the sim, arms the same failure). */
  failingConfig(): string;
  /** One DHCP exchange from a client with this MAC; the address it got, or null when no server answered. */
  requestLease(mac: string, hostname: string | null): Promise<string | null>;
  /** The running instance's process dies. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

async function expectDhcpError(call: Promise<unknown>, kind: DhcpErrorKind, network: string): Promise<void> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DhcpError);
  expect({ kind: (error as DhcpError).kind, network: (error as DhcpError).network }).toEqual({ kind, network });
  expect((error as Error).message).toContain(network);
}

const toNumber = (ip: string): number => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);

export function dhcpContract(label: string, createHarness: () => Promise<DhcpHarness>): void {
  describe(`dhcp driver contract: ${label}`, () => {
    let h: DhcpHarness;
    let d: DhcpDriver;
    const macA = '52:54:00:7c:00:01';
    const macB = '52:54:00:7c:00:02';
    const reserved = { mac: macB, ipv4: '', hostname: 'reserved1' };

    /** Waits for a spooled event about `mac` with `action`, and returns it parsed. */
    async function spooledEvent(mac: string, action: string): Promise<{ id: string; event: LeaseEvent }> {
      return waitFor(`${action} event for ${mac}`, async () => {
        for (const spooled of await d.pendingEvents()) {
          const event = parseLeaseEvent(spooled.text);
          if (spooled.network === h.network && event.mac === mac && event.action === action) return { id: spooled.id, event };
        }
        return null;
      }, 10_000);
    }

    async function clearSpool(): Promise<void> {
      for (const spooled of await d.pendingEvents()) await d.removeEvent(spooled.network, spooled.id);
    }

    beforeAll(async () => {
      h = await createHarness();
      d = h.driver;
      reserved.ipv4 = h.range.start.replace(/\.\d+$/, '.20');
      d.open();
    });
    afterAll(async () => {
      await d?.closeAll();
      await h?.stop();
    });

    it('starts an instance that hands out leases from its range and spools an add event', async () => {
      await d.start(h.network, h.configText, new Map(), []);
      expect(await d.instances()).toEqual([{ network: h.network, configText: h.configText, running: true, reservations: new Map() }]);
      const ip = await h.requestLease(macA, 'client1');
      expect(ip).not.toBeNull();
      expect(toNumber(ip as string)).toBeGreaterThanOrEqual(toNumber(h.range.start));
      expect(toNumber(ip as string)).toBeLessThanOrEqual(toNumber(h.range.end));
      const { id, event } = await spooledEvent(macA, 'add');
      expect(event).toMatchObject({ ipv4: ip, hostname: 'client1' });
      expect(event.expiresAtS).toBeGreaterThan(0);
      await d.removeEvent(h.network, id);
      expect((await d.pendingEvents()).some((e) => e.id === id)).toBe(false);
    });

    it('picks up a new reservation without a reload; a changed or removed one reloads', async () => {
      const files = reservationFiles([reserved]);
      expect(await d.syncReservations(h.network, files)).toBe('added');
      expect(await d.syncReservations(h.network, files)).toBe('unchanged');
      expect(await h.requestLease(macB, null)).toBe(reserved.ipv4);
      expect((await d.instances())[0]?.reservations).toEqual(files);
      expect(await d.syncReservations(h.network, reservationFiles([{ ...reserved, ipv4: reserved.ipv4.replace(/\.20$/, '.21') }]))).toBe('reloaded');
      expect(await d.syncReservations(h.network, new Map())).toBe('reloaded');
      expect((await d.instances())[0]?.running).toBe(true);
    });

    it('restarts with a seeded lease file: dnsmasq reports each seeded lease as old, with no name', async () => {
      await clearSpool();
      const seed = [{ mac: '52:54:00:7c:00:09', ipv4: h.range.end, hostname: 'seeded', expiresAtS: Math.floor(Date.now() / 1000) + 3_000 }];
      await d.start(h.network, h.configText, new Map(), seed);
      const { event } = await spooledEvent('52:54:00:7c:00:09', 'old');
      expect(event).toEqual({ action: 'old', mac: '52:54:00:7c:00:09', ipv4: h.range.end, expiresAtS: seed[0]?.expiresAtS, hostname: null });
      expect((await d.instances()).map((i) => i.network)).toEqual([h.network]);
    });

    it('notices an instance that died, and starts it again', async () => {
      await h.crash();
      await waitFor('the instance to show as not running', async () => (await d.instances())[0]?.running === false, 10_000);
      await d.start(h.network, h.configText, new Map(), null);
      expect((await d.instances())[0]?.running).toBe(true);
    });

    it('reports a config dnsmasq refuses, and lists no instance for it', async () => {
      await expectDhcpError(d.start(h.network, h.failingConfig(), new Map(), null), 'failed', h.network);
      expect(await d.instances()).toEqual([]);
    });

    it('is fenced: closeAll stops every instance and refuses starts until open', async () => {
      await d.start(h.network, h.configText, new Map(), null);
      await d.closeAll();
      expect(await d.instances()).toEqual([]);
      expect(await h.requestLease(macA, null)).toBeNull();
      await expectDhcpError(d.start(h.network, h.configText, new Map(), null), 'closed', h.network);
      d.open();
      await d.start(h.network, h.configText, new Map(), null);
      expect(await h.requestLease(macA, null)).not.toBeNull();
      await d.stop(h.network);
      await d.stop(h.network);
      expect(await d.instances()).toEqual([]);
    });
  });
}
