// The vtysh parsers on output captured from FRR 8.4.4 in the netns lab (test/unit/fixtures/frr/).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAdvertisedRoutes, parseBgpSummary, parseEvpnVnis, parseNeighborAddresses, parseRunningBgp } from '../../daemon/drivers/frr/parse.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/frr/${name}`, import.meta.url), 'utf8');

describe('frr parsers', () => {
  it('reads an established EVPN peer', () => {
    expect(parseBgpSummary(fixture('bgp-evpn-summary-established.json'))).toEqual([
      { address: '172.30.0.2', state: 'Established', remoteAs: 65500, prefixesReceived: 2, establishedCount: 1, description: 'n2' },
    ]);
  });

  it('reads a peer still connecting', () => {
    const [peer] = parseBgpSummary(fixture('bgp-evpn-summary-connecting.json'));
    expect(peer).toMatchObject({ address: '172.30.0.2', establishedCount: 0, prefixesReceived: 0 });
    expect(peer?.state).not.toBe('Established');
  });

  it('reads no peers from an empty answer, and refuses what is not a json object', () => {
    expect(parseBgpSummary('{}\n')).toEqual([]);
    expect(parseBgpSummary('')).toEqual([]);
    expect(() => parseBgpSummary('[1]')).toThrow(/not a json object/);
    expect(() => parseBgpSummary('% Unknown command')).toThrow(/not valid json/);
  });

  it('reads an upstream (ipv4 unicast) peer from the same summary shape', () => {
    expect(parseBgpSummary(fixture('bgp-ipv4-summary-upstream.json'))).toEqual([
      { address: '192.168.61.1', state: 'Established', remoteAs: 65500, prefixesReceived: 1, establishedCount: 1, description: 'upstream' },
    ]);
  });

  it('reads the prefixes sent to a peer, none, and refuses an answer about no neighbor', () => {
    expect(parseAdvertisedRoutes(fixture('bgp-ipv4-advertised.json'))).toEqual(['10.100.0.0/24']);
    expect(parseAdvertisedRoutes(fixture('bgp-ipv4-advertised-none.json'))).toEqual([]);
    expect(() => parseAdvertisedRoutes(fixture('bgp-ipv4-advertised-no-neighbor.json'))).toThrow(/No such neighbor/);
  });

  it('reads the VNIs zebra advertises with their remote VTEPs', () => {
    expect(parseEvpnVnis(fixture('evpn-vni.json'))).toEqual([{ vni: 100, vxlanInterface: 'vxlan100', macs: 2, remoteVteps: 1 }]);
    expect(parseEvpnVnis(fixture('evpn-vni-empty.json'))).toEqual([]);
  });

  it('reads the configured neighbors', () => {
    expect(parseNeighborAddresses(fixture('bgp-neighbors.json'))).toEqual(['172.30.0.2']);
    expect(parseNeighborAddresses('{\n}\n')).toEqual([]);
  });

  it('reads the AS and router id bgpd runs with', () => {
    expect(parseRunningBgp(fixture('running-config-bgpd.txt'))).toEqual({ asn: 65500, routerId: '172.30.0.1' });
    expect(parseRunningBgp('Building configuration...\n!\nend\n')).toEqual({ asn: null, routerId: null });
  });
});
