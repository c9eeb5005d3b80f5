// The links driver contract: one suite, run against the simulation (links-sim.test.ts) and
// against iproute2 inside a network namespace the test creates (links-iproute.test.ts), so the
// simulation cannot drift from what the kernel does. Tests run in order and share links.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkError, type LinkErrorKind, type LinkInfo, type LinksDriver } from '../../daemon/drivers/links/port.ts';

export interface LinksHarness {
  driver: LinksDriver;
  /** An existing, up device in the namespace (the underlay), MTU 1500. */
  underlay: string;
  /** An address of the underlay, used as the VXLAN's local VTEP. */
  localAddress: string;
  /** The kernel has 8021q (this test machine's does not: VLAN creation is refused as unsupported). */
  vlanSupported: boolean;
  stop(): Promise<void>;
}

async function expectLinkError(call: Promise<unknown>, kind: LinkErrorKind, link: string | null): Promise<void> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LinkError);
  const linkError = error as LinkError;
  expect({ kind: linkError.kind, link: linkError.link }).toEqual({ kind, link });
  if (link !== null) expect(linkError.message).toContain(link);
}

export function linksContract(label: string, createHarness: () => Promise<LinksHarness>): void {
  describe(`links driver contract: ${label}`, () => {
    let h: LinksHarness;
    let d: LinksDriver;
    const get = async (name: string): Promise<LinkInfo | undefined> => (await d.listLinks()).find((l) => l.name === name);

    beforeAll(async () => {
      h = await createHarness();
      d = h.driver;
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('lists the underlay device, up, with its MTU', async () => {
      const underlay = await get(h.underlay);
      expect(underlay).toMatchObject({ name: h.underlay, up: true, mtu: 1500, master: null, vxlan: null, bridgePort: null });
    });

    it('creates a bridge, down, with the MTU asked; a second create is refused', async () => {
      await d.createBridge('vmbr100', 1450);
      expect(await get('vmbr100')).toMatchObject({ kind: 'bridge', mtu: 1450, up: false, master: null, addresses: [] });
      await expectLinkError(d.createBridge('vmbr100', 1450), 'exists', 'vmbr100');
    });

    it('creates a VXLAN without learning; the same VNI under another name is refused', async () => {
      await d.createVxlan({ name: 'vxlan100', vni: 100, local: h.localAddress, dstPort: 4789, mtu: 1450 });
      expect(await get('vxlan100')).toMatchObject({ kind: 'vxlan', mtu: 1450, up: false, vxlan: { vni: 100, local: h.localAddress, dstPort: 4789, learning: false } });
      await expectLinkError(d.createVxlan({ name: 'vxlan101', vni: 100, local: h.localAddress, dstPort: 4789, mtu: 1450 }), 'exists', 'vxlan101');
      expect(await get('vxlan101')).toBeUndefined();
    });

    it('makes the VXLAN a bridge port and sets its port options', async () => {
      await d.setMaster('vxlan100', 'vmbr100');
      expect(await get('vxlan100')).toMatchObject({ master: 'vmbr100', bridgePort: { learning: true, neighSuppress: false } });
      await d.setBridgePort('vxlan100', { learning: false, neighSuppress: true });
      expect((await get('vxlan100'))?.bridgePort).toEqual({ learning: false, neighSuppress: true });
    });

    it('refuses a master that is not a bridge, or does not exist, and port options on a non-port', async () => {
      await expectLinkError(d.setMaster('vmbr100', h.underlay), 'invalid', 'vmbr100');
      await expectLinkError(d.setMaster('vxlan100', 'vmbr999'), 'not-found', 'vxlan100');
      await expectLinkError(d.setBridgePort(h.underlay, { learning: false, neighSuppress: true }), 'invalid', h.underlay);
      expect((await get('vxlan100'))?.master).toBe('vmbr100');
    });

    it('sets the MTU and the state; refuses an MTU out of range and a missing link', async () => {
      await d.setMtu('vxlan100', 1400);
      await d.setUp('vxlan100', true);
      await d.setUp('vmbr100', true);
      expect(await get('vxlan100')).toMatchObject({ mtu: 1400, up: true });
      expect((await get('vmbr100'))?.up).toBe(true);
      await expectLinkError(d.setMtu('vxlan100', 10), 'invalid', 'vxlan100');
      await expectLinkError(d.setUp('vmbr404', true), 'not-found', 'vmbr404');
      await d.setUp('vmbr100', false);
      expect((await get('vmbr100'))?.up).toBe(false);
    });

    it('adds and removes addresses; refuses a duplicate, a missing one and a malformed one', async () => {
      await d.addAddress('vmbr100', '10.100.0.1/24');
      await d.addAddress('vmbr100', 'fd00:100::1/64');
      expect((await get('vmbr100'))?.addresses).toEqual(['10.100.0.1/24', 'fd00:100::1/64']);
      await expectLinkError(d.addAddress('vmbr100', '10.100.0.1/24'), 'exists', 'vmbr100');
      await d.removeAddress('vmbr100', '10.100.0.1/24');
      await expectLinkError(d.removeAddress('vmbr100', '10.100.0.1/24'), 'not-found', 'vmbr100');
      await expectLinkError(d.addAddress('vmbr100', '10.100.0.300/24'), 'invalid', 'vmbr100');
      expect((await get('vmbr100'))?.addresses).toEqual(['fd00:100::1/64']);
    });

    it('lists the FDB of a port (no remote entries without EVPN); a missing device is not found', async () => {
      const entries = await d.listFdb('vxlan100');
      expect(entries.filter((e) => e.dst !== null)).toEqual([]);
      await expectLinkError(d.listFdb('vxlan404'), 'not-found', 'vxlan404');
    });

    it('deleting a bridge leaves its ports without a master; a second delete is not found', async () => {
      await d.deleteLink('vmbr100');
      expect(await get('vmbr100')).toBeUndefined();
      expect(await get('vxlan100')).toMatchObject({ master: null, bridgePort: null });
      await expectLinkError(d.deleteLink('vmbr100'), 'not-found', 'vmbr100');
      await d.deleteLink('vxlan100');
      expect(await get('vxlan100')).toBeUndefined();
    });

    it('creates a VLAN on the underlay where the kernel has 8021q, and says unsupported where not', async () => {
      const create = d.createVlan({ name: 'vlan200', parent: h.underlay, vlanId: 200, mtu: 1500 });
      if (!h.vlanSupported) {
        await expectLinkError(create, 'unsupported', 'vlan200');
        expect(await get('vlan200')).toBeUndefined();
        return;
      }
      await create;
      expect(await get('vlan200')).toMatchObject({ kind: 'vlan', vlan: { id: 200, parent: h.underlay }, mtu: 1500 });
      await expectLinkError(d.createVlan({ name: 'vlan201', parent: 'eth404', vlanId: 201, mtu: 1500 }), 'not-found', 'vlan201');
      await d.deleteLink('vlan200');
    });

    it('refuses names the kernel cannot hold, before running anything', async () => {
      await expectLinkError(d.createBridge('vmbr-much-too-long', 1500), 'invalid', 'vmbr-much-too-long');
      await expectLinkError(d.setUp('bad name', true), 'invalid', 'bad name');
    });
  });
}
