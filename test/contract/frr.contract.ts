// The FRR driver contract: one suite, run against the simulation (frr-sim.test.ts) and against
// real zebra + bgpd in two network namespaces (frr-daemons.test.ts). Configs come from the real
// renderer (reconcile/frr-config.ts), so the templates are also checked against real FRR.
// Tests run in order and share the two nodes; the upstream scenario comes last, as it turns node
// b into a's upstream router (another AS).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrrError, type FrrDriver, type FrrErrorKind } from '../../daemon/drivers/frr/port.ts';
import type { LinksDriver } from '../../daemon/drivers/links/port.ts';
import type { ManagedNetwork } from '../../common/zk/schema.ts';
import { buildFrrConfig, type FrrNode } from '../../daemon/reconcile/frr-config.ts';
import { waitFor } from '../helpers/wait.ts';

export interface FrrContractNode {
  name: string;
  frr: FrrDriver;
  links: LinksDriver;
  /** Its underlay address (VTEP, router id), on a /24 shared with the other node. */
  address: string;
  logDir: string;
}

export interface FrrHarness {
  nodes: readonly [FrrContractNode, FrrContractNode];
  /** An underlay address no node has (a peer that never answers). */
  ghostAddress: string;
  stop(): Promise<void>;
}

async function expectFrrError(call: Promise<unknown>, kind: FrrErrorKind): Promise<void> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FrrError);
  expect((error as FrrError).kind).toBe(kind);
}

export function frrContract(label: string, createHarness: () => Promise<FrrHarness>): void {
  describe(`frr driver contract: ${label}`, () => {
    let h: FrrHarness;
    let a: FrrContractNode;
    let b: FrrContractNode;
    const frrNodes = (): FrrNode[] => [
      { name: a.name, role: 'coordinator', vtepAddress: a.address },
      { name: b.name, role: 'hypervisor', vtepAddress: b.address },
    ];
    const configOf = (node: FrrContractNode, extra: FrrNode[] = [], asn = 65500) =>
      buildFrrConfig({ self: frrNodes().find((n) => n.name === node.name) as FrrNode, nodes: [...frrNodes(), ...extra], cluster: { asn, upstreamPeers: [] }, networks: [], logDir: node.logDir });
    const peerOf = async (node: FrrContractNode, address: string) => (await node.frr.evpnPeers()).find((p) => p.address === address);
    const waitEstablished = (node: FrrContractNode, address: string) =>
      waitFor(`${node.name} established with ${address}`, async () => {
        const peer = await peerOf(node, address);
        return peer?.state === 'Established' ? peer : null;
      });

    beforeAll(async () => {
      h = await createHarness();
      [a, b] = h.nodes;
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('reports daemons that do not run, and refuses to query them', async () => {
      expect(await a.frr.running()).toEqual({ zebra: false, bgpd: false });
      await expectFrrError(a.frr.evpnPeers(), 'not-running');
    });

    it('starts zebra and bgpd with a config, and finds nothing to do the second time', async () => {
      expect(await a.frr.apply(configOf(a))).toBe('started');
      expect(await a.frr.running()).toEqual({ zebra: true, bgpd: true });
      expect(await a.frr.apply(configOf(a))).toBe('unchanged');
      const [peer] = await a.frr.evpnPeers();
      expect(peer).toMatchObject({ address: b.address, remoteAs: 65500 });
      expect(peer?.state).not.toBe('Established');
    });

    it('peers over iBGP EVPN once both nodes run', async () => {
      expect(await b.frr.apply(configOf(b))).toBe('started');
      expect((await waitEstablished(a, b.address)).establishedCount).toBe(1);
      await waitEstablished(b, a.address);
    });

    it('learns the remote VTEP of a VNI both nodes have', async () => {
      for (const node of [a, b]) {
        await node.links.createBridge('vmbr100', 1450);
        await node.links.createVxlan({ name: 'vxlan100', vni: 100, local: node.address, dstPort: 4789, mtu: 1450 });
        await node.links.setMaster('vxlan100', 'vmbr100');
        await node.links.setBridgePort('vxlan100', { learning: false, neighSuppress: true });
        await node.links.setUp('vxlan100', true);
        await node.links.setUp('vmbr100', true);
      }
      await waitFor('vni 100 on a with one remote vtep', async () => {
        const vni = (await a.frr.evpnVnis()).find((v) => v.vni === 100);
        return vni?.remoteVteps === 1 && vni.vxlanInterface === 'vxlan100';
      });
    });

    it('reloads a changed neighbor set in place: kept sessions stay up', async () => {
      const ghost: FrrNode = { name: 'ghost', role: 'hypervisor', vtepAddress: h.ghostAddress };
      expect(await a.frr.apply(configOf(a, [ghost]))).toBe('reloaded');
      expect((await a.frr.evpnPeers()).map((p) => p.address).sort()).toEqual([b.address, h.ghostAddress].sort());
      expect(await a.frr.apply(configOf(a))).toBe('reloaded');
      expect((await a.frr.evpnPeers()).map((p) => p.address)).toEqual([b.address]);
      expect(await peerOf(a, b.address)).toMatchObject({ state: 'Established', establishedCount: 1 });
    });

    it('refuses a config line bgpd does not know, and keeps running', async () => {
      const bad = configOf(a);
      await expectFrrError(a.frr.apply({ ...bad, bgpd: `${bad.bgpd}router bgp 65500\n neighbor ${b.address} bogus-option\nexit\n` }), 'invalid-config');
      expect(await a.frr.running()).toEqual({ zebra: true, bgpd: true });
      expect(await peerOf(a, b.address)).toMatchObject({ state: 'Established', establishedCount: 1 });
    });

    it('restarts bgpd for a new AS; sessions come back once both agree again', async () => {
      expect(await a.frr.apply(configOf(a, [], 65501))).toBe('restarted');
      expect(await a.frr.apply(configOf(a))).toBe('restarted');
      const peer = await waitFor('a re-established with b', async () => {
        const p = await peerOf(a, b.address);
        return p?.state === 'Established' && p.remoteAs === 65500 ? p : null;
      });
      expect(peer.remoteAs).toBe(65500);
    });

    it('stops both daemons', async () => {
      await a.frr.stop();
      expect(await a.frr.running()).toEqual({ zebra: false, bgpd: false });
      await expectFrrError(a.frr.evpnVnis(), 'not-running');
    });

    // Upstream peers: a is the coordinator of a cluster of its own, announcing one managed
    // network; b is its upstream router, rendered the same way as a coordinator of another AS
    // whose upstream peer is a (it announces nothing: no networks, so its prefix list is `deny any`).
    const upstreamAsn = 65010;
    const lan: ManagedNetwork = {
      name: 'lan', type: 'managed', vni: 100, description: '', domain: 'lan.pvc.local', mtu: null,
      ipv4: { subnet: '10.100.0.0/24', gateway: '10.100.0.1', dhcp: { enabled: false, start: null, end: null } },
      ipv6: null, nameServers: [], firewall: { defaultInbound: 'accept', defaultOutbound: 'accept' },
    };
    const coordinatorAlone = (node: FrrContractNode, asn: number, upstreamPeers: Array<{ address: string; asn: number }>, networks: ManagedNetwork[]) => {
      const self: FrrNode = { name: node.name, role: 'coordinator', vtepAddress: node.address };
      return buildFrrConfig({ self, nodes: [self], cluster: { asn, upstreamPeers }, networks, logDir: node.logDir });
    };
    const unicastPeerOf = async (node: FrrContractNode, address: string) => (await node.frr.unicastPeers()).find((p) => p.address === address);

    it('peers with an upstream router over eBGP, apart from EVPN', async () => {
      expect(await b.frr.apply(coordinatorAlone(b, upstreamAsn, [{ address: a.address, asn: 65500 }], []))).toBe('restarted');
      expect(await a.frr.apply(coordinatorAlone(a, 65500, [{ address: b.address, asn: upstreamAsn }], [lan]))).toBe('started');
      const peer = await waitFor('a established with its upstream b', async () => {
        const p = await unicastPeerOf(a, b.address);
        return p?.state === 'Established' ? p : null;
      });
      expect(peer).toMatchObject({ remoteAs: upstreamAsn, description: 'upstream' });
      expect(await unicastPeerOf(b, a.address)).toMatchObject({ state: 'Established', remoteAs: 65500 });
      expect(await a.frr.evpnPeers()).toEqual([]);
    });

    it('announces the managed subnet once its gateway address is connected, and nothing else', async () => {
      // a's underlay subnet is connected but not a managed network's: the prefix list keeps it out.
      expect(await a.frr.advertisedRoutes(b.address)).toEqual([]);
      // The gateway address on the network's bridge, as the primary holds it. The bridge has an
      // up port (vxlan100, from the VNI test): without carrier the kernel's route is not usable
      // and zebra would not hand it to bgpd.
      await a.links.addAddress('vmbr100', '10.100.0.1/24');
      await waitFor('a announcing 10.100.0.0/24 to b', async () => (await a.frr.advertisedRoutes(b.address)).length > 0);
      expect(await a.frr.advertisedRoutes(b.address)).toEqual(['10.100.0.0/24']);
      await waitFor('b receiving one prefix from a', async () => (await unicastPeerOf(b, a.address))?.prefixesReceived === 1);
      expect(await unicastPeerOf(a, b.address)).toMatchObject({ prefixesReceived: 0 });
    });

    it('drops the upstream session when a reload removes the peer', async () => {
      expect(await a.frr.apply(coordinatorAlone(a, 65500, [], [lan]))).toBe('reloaded');
      expect(await a.frr.unicastPeers()).toEqual([]);
      await expectFrrError(a.frr.advertisedRoutes(b.address), 'failed');
      await waitFor('b no longer established with a', async () => (await unicastPeerOf(b, a.address))?.state !== 'Established');
      expect((await unicastPeerOf(b, a.address))?.prefixesReceived).toBe(0);
    });
  });
}
