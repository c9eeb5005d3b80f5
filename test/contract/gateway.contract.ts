// The gateway driver contract: one suite against the simulation (gateway-sim.test.ts) and
// against iproute2 + busybox arping in network namespaces (gateway-iproute.test.ts). Addresses
// live on a lifetime that a renewal extends; an announcement moves a client's cached entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError, type GatewayDriver } from '../../daemon/drivers/gateway/port.ts';
import { waitFor } from '../helpers/wait.ts';

export interface GatewayHarness {
  driver: GatewayDriver;
  /** An existing bridge without addresses, and its MAC. */
  device: string;
  mac: string;
  /** The client's address (it answers ARP requests). */
  clientAddress: string;
  /** Makes the client cache a wrong MAC for `address`. */
  poisonClient(address: string): Promise<void>;
  /** The MAC the client has cached for `address` (null: none). */
  clientNeighbour(address: string): Promise<string | null>;
  stop(): Promise<void>;
}

export function gatewayContract(label: string, createHarness: () => Promise<GatewayHarness>): void {
  describe(`gateway driver contract: ${label}`, () => {
    let h: GatewayHarness;
    let d: GatewayDriver;
    const addressesOf = async (device: string) => (await d.listAddresses()).find((l) => l.name === device)?.addresses ?? [];

    beforeAll(async () => {
      h = await createHarness();
      d = h.driver;
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('adds an address with a lifetime; renewing it keeps one address', async () => {
      await d.lease(h.device, '10.77.8.1/24', 30);
      await d.lease(h.device, '10.77.8.1/24', 30);
      await d.lease(h.device, 'fd77:8::1/64', 30);
      expect(await addressesOf(h.device)).toEqual(['10.77.8.1/24', 'fd77:8::1/64']);
    });

    it('announces the address: a client that cached another MAC takes this one', async () => {
      await h.poisonClient('10.77.8.1');
      expect(await h.clientNeighbour('10.77.8.1')).not.toBe(h.mac);
      await d.announce(h.device, '10.77.8.1');
      await waitFor('the client to learn the announced mac', async () => (await h.clientNeighbour('10.77.8.1')) === h.mac, 5_000);
    });

    it('asks a client by ARP request from the gateway address: the client takes this MAC too', async () => {
      await h.poisonClient('10.77.8.1');
      await d.forgetNeighbours(h.device);
      expect(await d.askNeighbour(h.device, '10.77.8.1', h.clientAddress)).toBe(true);
      await waitFor('the client to learn the mac', async () => (await h.clientNeighbour('10.77.8.1')) === h.mac, 5_000);
      expect(await d.askNeighbour(h.device, '10.77.8.1', '10.77.8.222')).toBe(false);
    });

    it('loses an address whose lifetime ran out without a renewal', async () => {
      await d.lease(h.device, '10.77.8.9/24', 1);
      expect(await addressesOf(h.device)).toContain('10.77.8.9/24');
      await waitFor('the address to expire', async () => !(await addressesOf(h.device)).includes('10.77.8.9/24'), 10_000);
      expect(await addressesOf(h.device)).toContain('10.77.8.1/24');
    });

    it('removes an address; removing it again is fine', async () => {
      await d.remove(h.device, '10.77.8.1/24');
      await d.remove(h.device, '10.77.8.1/24');
      await d.remove(h.device, 'fd77:8::1/64');
      expect(await addressesOf(h.device)).toEqual([]);
    });

    it('refuses a missing device and bad arguments, naming them', async () => {
      const refused = async (call: Promise<unknown>, kind: string, text: RegExp) => {
        const error = await call.then(() => null, (e: unknown) => e);
        expect(error).toBeInstanceOf(GatewayError);
        expect((error as GatewayError).kind).toBe(kind);
        expect((error as Error).message).toMatch(text);
      };
      await refused(d.lease('nosuch0', '10.77.8.1/24', 30), 'not-found', /nosuch0/);
      await refused(d.announce('nosuch0', '10.77.8.1'), 'not-found', /nosuch0/);
      await refused(d.lease(h.device, '10.77.8.1', 30), 'invalid', /address\/prefix-length/);
      await refused(d.lease(h.device, '10.77.8.1/24', 0), 'invalid', /lifetime 0/);
      await refused(d.announce('bad name', '10.77.8.1'), 'invalid', /invalid interface name/);
      await refused(d.askNeighbour('nosuch0', '10.77.8.1', '10.77.8.50'), 'not-found', /nosuch0/);
      await refused(d.forgetNeighbours('nosuch0'), 'not-found', /nosuch0/);
    });
  });
}
