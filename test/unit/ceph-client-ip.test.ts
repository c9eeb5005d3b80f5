// The IP a node's Ceph clients use: read out of Ceph's client addresses, found from the route to
// a monitor (`ip -json route get`) or taken from the config's `ceph.clientAddress`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../daemon/config.ts';
import { cephClientIpOf } from '../../daemon/drivers/ceph/client-address.ts';
import { parseRouteGetSource } from '../../daemon/drivers/links/route-source.ts';
import { findCephClientIp } from '../../daemon/runtime/ceph-client-ip.ts';

const log = pino({ level: 'silent' });
const base = { cluster: 'c1', node: 'n1', role: 'coordinator', zookeeper: { hosts: '127.0.0.1:2181', user: 'pvc', password: 'pw' } };

describe('cephClientIpOf', () => {
  it('reads the IP of every spelling rbd status and rbd lock ls print', () => {
    expect(cephClientIpOf('127.0.0.1:0/3021234567')).toBe('127.0.0.1');
    expect(cephClientIpOf('v1:10.0.0.5:0/12')).toBe('10.0.0.5');
    expect(cephClientIpOf('v2:10.0.0.5:6800/12')).toBe('10.0.0.5');
    expect(cephClientIpOf('any:10.0.0.5:0/12')).toBe('10.0.0.5');
    expect(cephClientIpOf('10.0.0.5:0')).toBe('10.0.0.5');
    expect(cephClientIpOf('[fd00::1]:0/77')).toBe('fd00::1');
    expect(cephClientIpOf('v2:[FD00:0:0::0001]:0/77')).toBe('fd00::1');
    expect(cephClientIpOf('[v2:10.0.0.5:0/1,v1:10.0.0.5:0/1]')).toBe('10.0.0.5');
  });

  it('gives null for what is not a client address', () => {
    for (const text of ['', '-', 'client.4155', '10.0.0.5', '10.0.0.256:0/1', 'v3:10.0.0.5:0/1', 'host.example:0/1', '[fd00::zz]:0/1', 'fd00::1:0/1']) {
      expect(cephClientIpOf(text)).toBeNull();
    }
  });
});

describe('parseRouteGetSource', () => {
  it('reads prefsrc from `ip -json route get`', () => {
    expect(parseRouteGetSource('[{"dst":"8.8.8.8","gateway":"192.0.2.1","dev":"eth0","prefsrc":"192.0.2.2","flags":[],"uid":0,"cache":[]}]\n')).toBe('192.0.2.2');
    expect(parseRouteGetSource('[{"type":"local","dst":"::1","from":"::","dev":"lo","prefsrc":"::1","flags":[]}]')).toBe('::1');
  });

  it('gives null for a route without a source, and refuses what is not its output', () => {
    expect(parseRouteGetSource('[{"dst":"10.0.0.1","dev":"eth0"}]')).toBeNull();
    expect(() => parseRouteGetSource('[]')).toThrow('ip route get: unexpected output');
    expect(() => parseRouteGetSource('RTNETLINK answers')).toThrow('ip route get: output is not valid json');
  });
});

describe('findCephClientIp', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pvc-ceph-ip-'));
  const conf = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const real = (file: string, extra: object = {}) => ({ driver: 'real' as const, conf: file, id: 'admin', secretUuid: 'x', holderWaitLimitMs: 1, ...extra });

  it('takes the configured address without looking anything up', async () => {
    const lookup = () => Promise.reject(new Error('not asked'));
    expect(await findCephClientIp(real('/nowhere', { clientAddress: '10.0.0.7' }), log, lookup)).toBe('10.0.0.7');
  });

  it('asks the route to the first monitor given by address', async () => {
    const asked: string[] = [];
    const lookup = (to: string) => (asked.push(to), Promise.resolve('10.0.0.7'));
    const file = conf('a.conf', '[global]\nmon host = mon0.example, [v2:10.0.0.1:3300,v1:10.0.0.1:6789] 10.0.0.2\n');
    expect(await findCephClientIp(real(file), log, lookup)).toBe('10.0.0.7');
    expect(asked).toEqual(['10.0.0.1']);
  });

  it('publishes nothing, without throwing, when it cannot find it', async () => {
    const found = () => Promise.resolve('10.0.0.7');
    expect(await findCephClientIp(real(path.join(dir, 'missing.conf')), log, found)).toBeNull();
    expect(await findCephClientIp(real(conf('names.conf', 'mon host = mon0.example\n')), log, found)).toBeNull();
    const file = conf('b.conf', 'mon host = 10.0.0.1\n');
    expect(await findCephClientIp(real(file), log, () => Promise.reject(new Error('RTNETLINK answers: Network is unreachable')))).toBeNull();
    expect(await findCephClientIp(real(file), log, () => Promise.resolve(null))).toBeNull();
    expect(await findCephClientIp({ ...real(file), driver: 'sim' }, log, found)).toBeNull();
  });
});

describe('ceph.clientAddress in the pvcd config', () => {
  it('takes an IPv4 or canonical IPv6 address', () => {
    expect(validateConfig({ ...base, ceph: { conf: '/etc/ceph/ceph.conf', clientAddress: '10.0.0.7' } }, 't').ceph?.clientAddress).toBe('10.0.0.7');
    expect(validateConfig({ ...base, ceph: { conf: '/etc/ceph/ceph.conf', clientAddress: 'fd00::7' } }, 't').ceph?.clientAddress).toBe('fd00::7');
    expect(validateConfig({ ...base, ceph: { conf: '/etc/ceph/ceph.conf' } }, 't').ceph?.clientAddress).toBeUndefined();
  });

  it('refuses anything else, naming the bad value', () => {
    expect(() => validateConfig({ ...base, ceph: { conf: '/etc/ceph/ceph.conf', clientAddress: '10.0.0.300' } }, 'f.yaml')).toThrow(
      'invalid pvcd config f.yaml: ceph.clientAddress: must be an ipv4 or canonical ipv6 address (got "10.0.0.300")',
    );
  });
});
