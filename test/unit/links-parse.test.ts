// The iproute2 parsers on captured output (test/unit/fixtures/links/; the VLAN one is written by
// hand from iproute2's print_vlan, since this machine's kernel has no 8021q to capture it from).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyIpError, parseBridgeFdb, parseIpAddrDetails } from '../../daemon/drivers/links/parse.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/links/${name}`, import.meta.url), 'utf8');

describe('parseIpAddrDetails', () => {
  const links = parseIpAddrDetails(fixture('addr-show-details.json'));
  const byName = (name: string) => links.find((l) => l.name === name);

  it('reads every link with its kind', () => {
    expect(links.map((l) => [l.name, l.kind])).toEqual([
      ['lo', 'loopback'],
      ['vmbr100', 'bridge'],
      ['vxlan100', 'vxlan'],
      ['eth0p', 'veth'],
      ['eth0', 'veth'],
    ]);
  });

  it('reads a bridge with its addresses, leaving out link-local IPv6', () => {
    expect(byName('vmbr100')).toEqual({
      name: 'vmbr100', kind: 'bridge', master: null, mtu: 1400, up: true, operState: 'UP', macAddress: 'aa:77:b5:9a:22:c8',
      vxlan: null, vlan: null, bridgePort: null, addresses: ['10.100.0.1/24', 'fd00::1/64'],
    });
  });

  it('reads a VXLAN port with its VNI, VTEP, port and bridge-port options', () => {
    expect(byName('vxlan100')).toMatchObject({
      master: 'vmbr100', mtu: 1400, up: true, operState: 'UNKNOWN',
      vxlan: { vni: 100, local: '192.168.50.1', dstPort: 4789, learning: false },
      bridgePort: { learning: false, neighSuppress: true }, addresses: [],
    });
  });

  it('reads a VLAN interface with its id and parent', () => {
    const [vlan] = parseIpAddrDetails(fixture('addr-show-vlan-handwritten.json'));
    expect(vlan).toMatchObject({ name: 'vlan200', kind: 'vlan', master: 'vmbr200', vlan: { id: 200, parent: 'eth0' }, bridgePort: { learning: true, neighSuppress: false } });
  });

  it('takes empty output as no links and refuses output that is not a list of links', () => {
    expect(parseIpAddrDetails('')).toEqual([]);
    expect(() => parseIpAddrDetails('{}')).toThrow(/not a json array/);
    expect(() => parseIpAddrDetails('[{"ifname":"x"}]')).toThrow(/without ifname or mtu/);
    expect(() => parseIpAddrDetails('[{')).toThrow(/not valid json/);
  });
});

describe('parseBridgeFdb', () => {
  it('reads what EVPN installed: the flood entry and a remote MAC with its VTEP (captured from FRR 8.4)', () => {
    const entries = parseBridgeFdb(fixture('fdb-show-vxlan-evpn.json'));
    expect(entries.filter((e) => e.dst !== null)).toEqual([
      { mac: '00:00:00:00:00:00', dst: '172.30.0.2', flags: ['self'], state: 'permanent' },
      { mac: '52:54:00:00:02:01', dst: '172.30.0.2', flags: ['self', 'extern_learn'], state: '' },
    ]);
  });

  it('reads local and remote entries', () => {
    expect(parseBridgeFdb(fixture('fdb-show-vxlan-manual.json'))).toEqual([
      { mac: 'aa:77:b5:9a:22:c8', dst: null, flags: [], state: 'permanent' },
      { mac: '52:54:00:00:02:01', dst: '192.168.50.2', flags: ['self', 'extern_learn'], state: 'permanent' },
      { mac: '00:00:00:00:00:00', dst: '192.168.50.2', flags: ['self'], state: 'permanent' },
    ]);
  });
});

describe('classifyIpError', () => {
  it.each([
    ['Cannot find device "nosuch"', 'not-found'],
    ['Error: argument "nosuch" is wrong: Device does not exist', 'not-found'],
    ['Error: ipv4: Address not found.', 'not-found'],
    ['RTNETLINK answers: File exists', 'exists'],
    ['Error: A VXLAN device with the specified VNI already exists.', 'exists'],
    ['Error: ipv4: Address already assigned.', 'exists'],
    ['Error: Unknown device type.', 'unsupported'],
    ['RTNETLINK answers: Operation not supported', 'invalid'],
    ['Error: mtu less than device minimum.', 'invalid'],
    ['Cannot open network namespace "x": No such file or directory', 'failed'],
  ])('%s -> %s', (stderr, kind) => {
    expect(classifyIpError(stderr)).toBe(kind);
  });
});
