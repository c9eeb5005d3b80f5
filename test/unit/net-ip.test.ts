// IPv4/IPv6 address and subnet arithmetic (common/net/*.ts) and MAC spellings.
import { describe, expect, it } from 'vitest';
import { canonicalIp, canonicalNetwork, ipFamilyOf, parseAnyCidr } from '../../common/net/ip.ts';
import { formatIpv4, formatIpv4Cidr, ipv4InSubnet, ipv4Mask, ipv4SubnetSize, ipv4SubnetsOverlap, isIpv4Network, parseIpv4, parseIpv4Cidr } from '../../common/net/ipv4.ts';
import { canonicalIpv6, formatIpv6, ipv6InSubnet, ipv6SubnetsOverlap, isIpv6Network, parseIpv6, parseIpv6Cidr } from '../../common/net/ipv6.ts';
import { macFromKey, macKey, normalizeMac } from '../../common/net/mac.ts';

function cidr4(text: string) {
  const c = parseIpv4Cidr(text);
  if (!c) throw new Error(`bad test cidr ${text}`);
  return c;
}
function cidr6(text: string) {
  const c = parseIpv6Cidr(text);
  if (!c) throw new Error(`bad test cidr ${text}`);
  return c;
}

describe('ipv4', () => {
  it('parses dotted quads strictly and formats them back', () => {
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('10.1.2.3')).toBe(0x0a010203);
    for (const bad of ['', '10.1.2', '10.1.2.3.4', '256.0.0.1', '01.2.3.4', '1.2.3.-1', '1.2.3.4 ', 'a.b.c.d', '1..2.3', '10.1.2.3/24']) expect(parseIpv4(bad), bad).toBeNull();
    for (const text of ['0.0.0.0', '10.1.2.3', '192.168.255.1', '255.255.255.255']) expect(formatIpv4(parseIpv4(text) as number)).toBe(text);
  });

  it('computes masks, network and broadcast addresses', () => {
    expect(ipv4Mask(0)).toBe(0);
    expect(ipv4Mask(24)).toBe(0xffffff00);
    expect(ipv4Mask(32)).toBe(0xffffffff);
    const c = cidr4('10.1.2.77/24');
    expect(formatIpv4(c.network)).toBe('10.1.2.0');
    expect(formatIpv4(c.broadcast)).toBe('10.1.2.255');
    expect(isIpv4Network(c)).toBe(false);
    expect(isIpv4Network(cidr4('10.1.2.0/24'))).toBe(true);
    expect(formatIpv4Cidr(c)).toBe('10.1.2.0/24');
    expect(ipv4SubnetSize(cidr4('10.0.0.0/30'))).toBe(4);
    expect(ipv4SubnetSize(cidr4('0.0.0.0/0'))).toBe(2 ** 32);
    const top = cidr4('255.255.255.0/24');
    expect(formatIpv4(top.broadcast)).toBe('255.255.255.255');
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/024', '10.0.0/24', '10.0.0.0/a']) expect(parseIpv4Cidr(bad), bad).toBeNull();
  });

  it('tells membership and overlap', () => {
    const net = cidr4('10.0.0.0/24');
    expect(ipv4InSubnet(parseIpv4('10.0.0.0') as number, net)).toBe(true);
    expect(ipv4InSubnet(parseIpv4('10.0.0.255') as number, net)).toBe(true);
    expect(ipv4InSubnet(parseIpv4('10.0.1.0') as number, net)).toBe(false);
    expect(ipv4SubnetsOverlap(net, cidr4('10.0.0.128/25'))).toBe(true);
    expect(ipv4SubnetsOverlap(cidr4('10.0.0.0/16'), net)).toBe(true);
    expect(ipv4SubnetsOverlap(net, cidr4('10.0.1.0/24'))).toBe(false);
    expect(ipv4SubnetsOverlap(cidr4('10.0.0.0/25'), cidr4('10.0.0.128/25'))).toBe(false);
  });
});

describe('ipv6', () => {
  it('parses every text form and writes the rfc 5952 one', () => {
    expect(parseIpv6('::')).toBe(0n);
    expect(parseIpv6('::1')).toBe(1n);
    expect(formatIpv6(parseIpv6('2001:0DB8:0000:0000:0000:0000:0000:0001') as bigint)).toBe('2001:db8::1');
    expect(canonicalIpv6('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1'); // the first of two equal runs
    expect(canonicalIpv6('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1'); // a single zero group stays
    expect(canonicalIpv6('fe80::')).toBe('fe80::');
    expect(canonicalIpv6('::ffff:10.1.2.3')).toBe('::ffff:a01:203');
    expect(canonicalIpv6('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    expect(formatIpv6((1n << 128n) - 1n)).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', '12345::', 'g::1', 'fe80::1%eth0', '::1.2.3', '10.0.0.1']) {
      expect(parseIpv6(bad), bad).toBeNull();
    }
  });

  it('computes subnets, membership and overlap', () => {
    const net = cidr6('fd00:1::/64');
    expect(isIpv6Network(net)).toBe(true);
    expect(isIpv6Network(cidr6('fd00:1::1/64'))).toBe(false);
    expect(formatIpv6(net.last)).toBe('fd00:1::ffff:ffff:ffff:ffff');
    expect(ipv6InSubnet(parseIpv6('fd00:1::abcd') as bigint, net)).toBe(true);
    expect(ipv6InSubnet(parseIpv6('fd00:2::1') as bigint, net)).toBe(false);
    expect(ipv6SubnetsOverlap(net, cidr6('fd00::/16'))).toBe(true);
    expect(ipv6SubnetsOverlap(net, cidr6('fd00::/48'))).toBe(false);
    expect(ipv6SubnetsOverlap(net, cidr6('fd00:2::/64'))).toBe(false);
    for (const bad of ['fd00::', 'fd00::/129', 'fd00::/-1', 'x/64']) expect(parseIpv6Cidr(bad), bad).toBeNull();
  });
});

describe('either family', () => {
  it('accepts only canonical spellings as stored values', () => {
    expect(ipFamilyOf('10.0.0.1')).toBe(4);
    expect(ipFamilyOf('fd00::1')).toBe(6);
    expect(ipFamilyOf('FD00::1')).toBeNull();
    expect(ipFamilyOf('fd00:0::1')).toBeNull();
    expect(canonicalIp('FD00:0::1')).toBe('fd00::1');
    expect(canonicalIp('nope')).toBeNull();
  });

  it('parses subnets and interface addresses of both families', () => {
    expect(parseAnyCidr('10.0.0.5/24')).toEqual({ family: 4, interfaceForm: '10.0.0.5/24', networkForm: '10.0.0.0/24', isNetwork: false });
    expect(parseAnyCidr('FD00::5/64')).toEqual({ family: 6, interfaceForm: 'fd00::5/64', networkForm: 'fd00::/64', isNetwork: false });
    expect(canonicalNetwork('fd00:0:0::/64')).toBe('fd00::/64');
    expect(canonicalNetwork('10.0.0.1/24')).toBeNull();
    expect(parseAnyCidr('10.0.0.1')).toBeNull();
  });
});

describe('mac addresses', () => {
  it('normalizes what people type and refuses multicast and malformed ones', () => {
    expect(normalizeMac('52:54:00:AB:cd:EF')).toBe('52:54:00:ab:cd:ef');
    expect(normalizeMac('52-54-00-ab-cd-ef')).toBe('52:54:00:ab:cd:ef');
    for (const bad of ['01:00:5e:00:00:01', '52:54:00:ab:cd', '52:54:00:ab:cd:ef:00', '5254.00ab.cdef', 'zz:54:00:ab:cd:ef', '52:54:00-ab:cd:ef0']) expect(normalizeMac(bad), bad).toBeNull();
  });

  it('names znodes by 12 hex digits and reads them back', () => {
    expect(macKey('52:54:00:ab:cd:ef')).toBe('525400abcdef');
    expect(macFromKey('525400abcdef')).toBe('52:54:00:ab:cd:ef');
    expect(macFromKey('525400ABCDEF')).toBeNull();
    expect(macFromKey('010000000000')).toBeNull();
    expect(() => macKey('52:54:00:AB:CD:EF')).toThrow('not a stored mac address');
  });
});
