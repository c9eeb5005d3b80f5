// Parsers of what dnsmasq and PowerDNS give back, on captured output: the lease events
// lease-hook.sh spooled during a real DHCP exchange, dnsmasq's lease file, and PowerDNS API answers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLeaseEvent, parseLeaseFile } from '../../daemon/drivers/dnsmasq/parse.ts';
import { parseLinkAddresses } from '../../daemon/drivers/gateway/parse.ts';
import { createZoneBody, parseZone, parseZoneList, patchZoneBody } from '../../daemon/drivers/pdns/parse.ts';

const fixture = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

describe('lease events (lease-hook.sh)', () => {
  it('parses the events of a real exchange, with and without a host name', () => {
    const events = fixture('dnsmasq/spool-events.txt').split('\n').filter(Boolean).map((line) => parseLeaseEvent(`${line}\n`));
    expect(events[0]).toEqual({ action: 'old', mac: '52:54:00:00:00:99', ipv4: '10.77.0.120', expiresAtS: 1795309156, hostname: 'seeded' });
    expect(events[3]).toEqual({ action: 'old', mac: '16:ab:bc:97:40:0e', ipv4: '10.77.0.104', expiresAtS: 1795310262, hostname: null });
    expect(events.at(-1)?.hostname).toBe('client3');
  });

  it('parses add and del, and an infinite lease', () => {
    expect(parseLeaseEvent('add 52:54:00:AA:bb:01 10.0.0.5 0 vm1\n')).toEqual({ action: 'add', mac: '52:54:00:aa:bb:01', ipv4: '10.0.0.5', expiresAtS: 0, hostname: 'vm1' });
    expect(parseLeaseEvent('del 52:54:00:aa:bb:01 10.0.0.5 1700000000 \n').action).toBe('del');
  });

  it('keeps no host name that is not one dns label', () => {
    expect(parseLeaseEvent('add 52:54:00:aa:bb:01 10.0.0.5 0 bad_name\n').hostname).toBeNull();
  });

  it('refuses what is not an ipv4 lease event, naming the field', () => {
    expect(() => parseLeaseEvent('tftp 1234 10.0.0.5 0\n')).toThrow(/unknown action "tftp"/);
    expect(() => parseLeaseEvent('add 00:01:00:01:2c:aa:bb:cc:dd:ee fd00::5 0\n')).toThrow(/not a unicast ethernet mac/);
    expect(() => parseLeaseEvent('add 52:54:00:aa:bb:01 10.0.0.300 0\n')).toThrow(/"10.0.0.300" is not an ipv4 address/);
    expect(() => parseLeaseEvent('add 52:54:00:aa:bb:01 10.0.0.5 soon\n')).toThrow(/"soon" is not a lease end time/);
    expect(() => parseLeaseEvent('add 52:54:00:aa:bb:01 10.0.0.5 0 a b\n')).toThrow(/too many fields/);
  });
});

describe('dnsmasq lease file', () => {
  it('parses a captured file', () => {
    expect(parseLeaseFile(fixture('dnsmasq/leases'))).toEqual([
      { expiresAtS: 1795309156, mac: '52:54:00:00:00:99', ipv4: '10.77.0.120', hostname: 'seeded' },
      { expiresAtS: 1795310262, mac: '16:ab:bc:97:40:0e', ipv4: '10.77.0.104', hostname: 'client3' },
    ]);
  });

  it('stops at the dhcpv6 part', () => {
    expect(parseLeaseFile('0 52:54:00:00:00:01 10.0.0.2 * *\nduid 00:01\n0 1234 fd00::2 * 00:01\n')).toHaveLength(1);
  });
});

describe('powerdns api answers', () => {
  it('lists zones', () => {
    expect(parseZoneList(fixture('pdns/zones.json')).map((z) => z.name)).toEqual(['0.77.10.in-addr.arpa.', 'c1.pvc.local.', 'net1.c1.pvc.local.']);
  });

  it('reads a zone: record sets sorted, contents sorted, the soa kept', () => {
    const zone = parseZone(fixture('pdns/zone-net1.json'));
    expect(zone.name).toBe('net1.c1.pvc.local.');
    expect(zone.rrsets.map((s) => `${s.name} ${s.type}`)).toEqual(['net1.c1.pvc.local. NS', 'net1.c1.pvc.local. SOA', 'vm2.net1.c1.pvc.local. A', 'web1.net1.c1.pvc.local. A']);
    expect(zone.rrsets.find((s) => s.type === 'A' && s.name.startsWith('web1'))).toEqual({ name: 'web1.net1.c1.pvc.local.', type: 'A', ttlS: 30, records: ['10.77.0.50'] });
  });

  it('refuses an answer that is not a zone', () => {
    expect(() => parseZone('{"error": "Not Found"}')).toThrow(/unexpected zone/);
    expect(() => parseZoneList('<html>')).toThrow(/not json/);
  });

  it('writes create and patch bodies', () => {
    const set = { name: 'a.z.', type: 'A', ttlS: 30, records: ['10.0.0.1'] };
    expect(JSON.parse(createZoneBody({ name: 'z.', rrsets: [set] }))).toEqual({ name: 'z.', kind: 'Native', nameservers: [], rrsets: [{ name: 'a.z.', type: 'A', ttl: 30, records: [{ content: '10.0.0.1', disabled: false }] }] });
    expect(JSON.parse(patchZoneBody([set], [{ name: 'b.z.', type: 'A' }])).rrsets.map((s: { changetype: string }) => s.changetype)).toEqual(['DELETE', 'REPLACE']);
  });
});

describe('ip -json addr show (gateway driver)', () => {
  it('lists each link with its global addresses only', () => {
    expect(parseLinkAddresses(fixture('gateway/ip-addr-show.json')).slice(0, 2)).toEqual([
      { name: 'lo', addresses: [] },
      { name: 'br0', addresses: ['10.77.0.5/24', 'fd77::1/64'] },
    ]);
  });

  it('reads nothing as no links, and refuses what is not its output', () => {
    expect(parseLinkAddresses('')).toEqual([]);
    expect(() => parseLinkAddresses('{"ifname": "x"}')).toThrow(/not a json array/);
    expect(() => parseLinkAddresses('[{"mtu": 1500}]')).toThrow(/without ifname/);
  });
});
