// The DNS driver contract: one suite, run against the simulation (pdns-sim.test.ts) and against
// real PowerDNS (pdns-real.test.ts: on loopback through fetch, and inside a network namespace
// through curl), so the simulation cannot drift from what PowerDNS does. Tests run in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsError, type DnsDriver, type DnsErrorKind, type Zone } from '../../daemon/drivers/pdns/port.ts';

export interface DnsHarness {
  driver: DnsDriver;
  /** What a DNS query for name/type answers: its records, [] for no such name, null when the server does not answer. */
  resolve(name: string, type: string): Promise<string[] | null>;
  /** The server process dies. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

async function expectDnsError(call: Promise<unknown>, kind: DnsErrorKind): Promise<void> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DnsError);
  expect((error as DnsError).kind).toBe(kind);
}

const ZONE: Zone = {
  name: 'contract.pvc.test.',
  rrsets: [
    { name: 'contract.pvc.test.', type: 'NS', ttlS: 30, records: ['ns1.contract.pvc.test.'] },
    { name: 'vm1.contract.pvc.test.', type: 'A', ttlS: 30, records: ['10.0.0.1'] },
  ],
};

const managed = (zone: Zone | undefined) => zone?.rrsets.filter((s) => s.type !== 'SOA');

export function dnsContract(label: string, createHarness: () => Promise<DnsHarness>): void {
  describe(`dns driver contract: ${label}`, () => {
    let h: DnsHarness;
    let d: DnsDriver;

    beforeAll(async () => {
      h = await createHarness();
      d = h.driver;
      d.open();
    });
    afterAll(async () => {
      await d?.closeAll();
      await h?.stop();
    });

    it('starts the server once; it holds no zones', async () => {
      expect(await d.ensureRunning()).toBe('started');
      expect(await d.ensureRunning()).toBe('running');
      for (const zone of await d.listZones()) await d.deleteZone(zone.name);
      expect(await d.listZones()).toEqual([]);
    });

    it('creates a zone that answers at once, with an soa of its own', async () => {
      await d.createZone(ZONE);
      const [zone] = await d.listZones();
      expect(managed(zone)).toEqual(ZONE.rrsets);
      expect(zone?.rrsets.some((s) => s.type === 'SOA' && s.name === ZONE.name)).toBe(true);
      expect(await h.resolve('vm1.contract.pvc.test.', 'A')).toEqual(['10.0.0.1']);
    });

    it('refuses to create a zone twice', async () => {
      await expectDnsError(d.createZone(ZONE), 'api');
    });

    it('replaces and deletes record sets in one change, visible at once', async () => {
      await d.patchZone(ZONE.name, [{ name: 'vm2.contract.pvc.test.', type: 'A', ttlS: 30, records: ['10.0.0.2', '10.0.0.3'] }], [{ name: 'vm1.contract.pvc.test.', type: 'A' }]);
      const [zone] = await d.listZones();
      expect(managed(zone)).toEqual([ZONE.rrsets[0], { name: 'vm2.contract.pvc.test.', type: 'A', ttlS: 30, records: ['10.0.0.2', '10.0.0.3'] }]);
      expect((await h.resolve('vm2.contract.pvc.test.', 'A'))?.sort()).toEqual(['10.0.0.2', '10.0.0.3']);
      expect(await h.resolve('vm1.contract.pvc.test.', 'A')).toEqual([]);
    });

    it('keeps its zones across a crash and a start', async () => {
      await h.crash();
      expect(await d.ensureRunning()).toBe('started');
      expect((await d.listZones()).map((z) => z.name)).toEqual([ZONE.name]);
    });

    it('deletes a zone; deleting it again is fine', async () => {
      await d.deleteZone(ZONE.name);
      await d.deleteZone(ZONE.name);
      expect(await d.listZones()).toEqual([]);
      expect(await h.resolve('vm2.contract.pvc.test.', 'A')).toEqual([]);
    });

    it('is fenced: closeAll stops the server and refuses a start until open', async () => {
      await d.closeAll();
      expect(await h.resolve('vm2.contract.pvc.test.', 'A')).toBeNull();
      await expectDnsError(d.ensureRunning(), 'closed');
      await expectDnsError(d.listZones(), 'api');
      d.open();
      expect(await d.ensureRunning()).toBe('started');
    });
  });
}
