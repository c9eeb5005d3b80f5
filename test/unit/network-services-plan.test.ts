// The pure planners of the primary's network services: dnsmasq instances, lease write-back,
// gateway addresses.
import { describe, expect, it } from 'vitest';
import { planDhcp, type DhcpDesired, type DhcpObserved } from '../../daemon/reconcile/dhcp-plan.ts';
import { desiredGateways, planGateways, releaseGateways } from '../../daemon/reconcile/gateway-plan.ts';
import { planLeaseWrite } from '../../daemon/reconcile/lease-plan.ts';
import type { LeaseEvent } from '../../daemon/drivers/dnsmasq/parse.ts';
import { CLUSTER_NETWORK, LEASE_VM2, managedNetwork } from '../helpers/network-fixtures.ts';

const files = (entries: Record<string, string> = {}) => new Map(Object.entries(entries));
const want = (network: string, configText = 'conf', reservations = files()): DhcpDesired => ({ network, configText, reservations });
const have = (network: string, configText = 'conf', running = true, reservations = files()): DhcpObserved => ({ network, configText, running, reservations });

describe('planDhcp', () => {
  it('starts a new network, seeding its leases from zookeeper the first time this term', () => {
    expect(planDhcp([want('a')], [], new Set())).toEqual([{ kind: 'start', network: 'a', configText: 'conf', reservations: files(), seedFromZk: true, reason: 'new' }]);
    expect(planDhcp([want('a')], [have('a', 'conf', false)], new Set(['a']))).toMatchObject([{ kind: 'start', seedFromZk: false, reason: 'exited' }]);
  });

  it('restarts on a config change, stops a removed network first, and leaves a settled one alone', () => {
    const actions = planDhcp([want('a', 'new'), want('b')], [have('a', 'old'), have('b'), have('gone')], new Set(['a', 'b', 'gone']));
    expect(actions.map((a) => `${a.kind} ${a.network}`)).toEqual(['stop gone', 'start a']);
    expect(actions[1]).toMatchObject({ reason: 'config-changed', seedFromZk: false });
  });

  it('syncs reservations without a restart', () => {
    const reservations = files({ '525400000101': '52:54:00:00:01:01,10.0.0.10,web1\n' });
    expect(planDhcp([want('a', 'conf', reservations)], [have('a')], new Set(['a']))).toEqual([{ kind: 'sync-reservations', network: 'a', reservations }]);
  });
});

describe('planLeaseWrite', () => {
  const event = (action: LeaseEvent['action'], expiresAtS: number, ipv4 = LEASE_VM2.ipv4): LeaseEvent => ({ action, mac: LEASE_VM2.mac, ipv4, expiresAtS, hostname: 'vm2' });

  it('records a new lease and a renewal, and skips what is already recorded', () => {
    expect(planLeaseWrite(event('add', 1_800_000_000), null)).toEqual({ kind: 'put', lease: LEASE_VM2 });
    expect(planLeaseWrite(event('old', 1_800_000_600), LEASE_VM2)).toEqual({ kind: 'put', lease: { ...LEASE_VM2, expiresAtS: 1_800_000_600 } });
    expect(planLeaseWrite(event('old', 1_800_000_000), LEASE_VM2).kind).toBe('skip');
  });

  it('keeps the recorded name when an event carries none (dnsmasq knows no names)', () => {
    const nameless = { ...event('old', 1_800_000_600), hostname: null };
    expect(planLeaseWrite(nameless, LEASE_VM2)).toEqual({ kind: 'put', lease: { ...LEASE_VM2, expiresAtS: 1_800_000_600 } });
    expect(planLeaseWrite({ ...nameless, ipv4: '10.100.0.150' }, LEASE_VM2)).toEqual({ kind: 'put', lease: { ...LEASE_VM2, ipv4: '10.100.0.150', hostname: null, expiresAtS: 1_800_000_600 } });
  });

  it('never moves a lease backwards: a late event loses to a lease that ends later', () => {
    expect(planLeaseWrite(event('add', 1_700_000_000, '10.100.0.150'), LEASE_VM2)).toEqual({ kind: 'skip', why: 'a newer lease is recorded' });
    expect(planLeaseWrite(event('add', 1_900_000_000), { ...LEASE_VM2, expiresAtS: 0 }).kind).toBe('skip');
  });

  it('removes only the lease a del is about', () => {
    expect(planLeaseWrite(event('del', 1_800_000_000), LEASE_VM2)).toEqual({ kind: 'remove' });
    expect(planLeaseWrite(event('del', 1_800_000_000, '10.100.0.150'), LEASE_VM2).kind).toBe('skip');
    expect(planLeaseWrite(event('del', 1_700_000_000), LEASE_VM2)).toEqual({ kind: 'skip', why: 'the recorded lease was renewed since' });
    expect(planLeaseWrite(event('del', 1_800_000_000), null).kind).toBe('skip');
  });
});

describe('gateways', () => {
  const dual = managedNetwork({ ipv6: { subnet: 'fd00:100::/64', gateway: 'fd00:100::1', dhcp: { enabled: false } } });
  const cluster = { ...CLUSTER_NETWORK, floatingIps: [{ address: '192.168.1.250/24', device: null }, { address: 'fd00:1::250/64', device: 'eth9' }] };

  it('puts gateways on the bridges and floating ips on their devices', () => {
    const desired = desiredGateways([dual], cluster, 'eth0');
    expect(desired.addresses).toEqual([
      { device: 'vmbr100', cidr: '10.100.0.1/24', announce: true, network: 'prod' },
      { device: 'vmbr100', cidr: 'fd00:100::1/64', announce: false, network: 'prod' },
      { device: 'eth0', cidr: '192.168.1.250/24', announce: true, network: null },
      { device: 'eth9', cidr: 'fd00:1::250/64', announce: false, network: null },
    ]);
    expect(desiredGateways([dual], cluster, null).problems).toEqual([expect.stringMatching(/192\.168\.1\.250\/24 names no device/)]);
  });

  it('adds what is missing, waits for a missing bridge, removes stale gateways and only owned addresses elsewhere', () => {
    const desired = desiredGateways([dual, managedNetwork({ name: 'b', vni: 7, ipv4: { subnet: '10.7.0.0/24', gateway: '10.7.0.1', dhcp: { enabled: false, start: null, end: null } } })], CLUSTER_NETWORK, null);
    const observed = [
      { name: 'vmbr100', addresses: ['10.100.0.254/24', 'fd00:100::1/64'] },
      { name: 'eth0', addresses: ['192.168.1.5/24', '192.168.1.250/24'] },
    ];
    const actions = planGateways(desired, observed, new Set(['eth0 192.168.1.250/24']));
    expect(actions).toEqual([
      { kind: 'remove', device: 'eth0', cidr: '192.168.1.250/24' },
      { kind: 'remove', device: 'vmbr100', cidr: '10.100.0.254/24' },
      { kind: 'wait-for-device', device: 'vmbr7', cidr: '10.7.0.1/24' },
      { kind: 'add', address: { device: 'vmbr100', cidr: '10.100.0.1/24', announce: true, network: 'prod' } },
    ]);
    expect(planGateways(desired, [{ name: 'vmbr100', addresses: ['10.100.0.1/24', 'fd00:100::1/64'] }, { name: 'vmbr7', addresses: ['10.7.0.1/24'] }], new Set())).toEqual([]);
  });

  it('releases gateways and owned addresses, never the node own ones', () => {
    const desired = desiredGateways([dual], cluster, 'eth0');
    const observed = [
      { name: 'vmbr100', addresses: ['10.100.0.1/24', 'fd00:100::1/64'] },
      { name: 'eth0', addresses: ['192.168.1.5/24', '192.168.1.250/24'] },
    ];
    expect(releaseGateways(desired, observed, new Set()).map((a) => `${a.device} ${a.cidr}`)).toEqual(['vmbr100 10.100.0.1/24', 'vmbr100 fd00:100::1/64', 'eth0 192.168.1.250/24']);
    expect(releaseGateways(null, observed, new Set(['eth0 192.168.1.250/24']))).toEqual([{ device: 'eth0', cidr: '192.168.1.250/24' }]);
  });
});
