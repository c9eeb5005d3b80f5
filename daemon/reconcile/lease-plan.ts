// What one lease event from dnsmasq does to the lease in ZooKeeper. Pure.
//
// Events may come late: a spool left on a node that stopped being primary is recorded the next
// time it is primary, after newer primaries wrote newer leases. So an event never moves a lease
// backwards: the lease that ends later wins (0 = never ends, the latest of all), and a `del`
// removes only the lease it was about (same address, not one renewed since). Applying an event
// twice changes nothing the second time.
import type { DhcpLease } from '../../common/zk/schema.ts';
import type { LeaseEvent } from '../drivers/dnsmasq/parse.ts';

export type LeaseWrite = { kind: 'put'; lease: DhcpLease } | { kind: 'remove' } | { kind: 'skip'; why: string };

/** Lease ends as comparable numbers: 0 (infinite) sorts after every real time. */
function endOf(expiresAtS: number): number {
  return expiresAtS === 0 ? Number.POSITIVE_INFINITY : expiresAtS;
}

export function planLeaseWrite(event: LeaseEvent, current: DhcpLease | null): LeaseWrite {
  if (event.action === 'del') {
    if (current === null) return { kind: 'skip', why: 'no lease recorded' };
    if (current.ipv4 !== event.ipv4) return { kind: 'skip', why: `the recorded lease is for ${current.ipv4}` };
    if (endOf(current.expiresAtS) > endOf(event.expiresAtS)) return { kind: 'skip', why: 'the recorded lease was renewed since' };
    return { kind: 'remove' };
  }
  // dnsmasq knows no names (dhcp-ignore-names): an event without one (a lease it read back at
  // start) keeps the name recorded for the same address.
  const hostname = event.hostname ?? (current?.ipv4 === event.ipv4 ? current.hostname : null);
  const lease: DhcpLease = { mac: event.mac, ipv4: event.ipv4, hostname, expiresAtS: event.expiresAtS };
  if (current !== null) {
    if (endOf(current.expiresAtS) > endOf(event.expiresAtS)) return { kind: 'skip', why: 'a newer lease is recorded' };
    if (current.ipv4 === lease.ipv4 && current.hostname === lease.hostname && current.expiresAtS === lease.expiresAtS) {
      return { kind: 'skip', why: 'already recorded' };
    }
  }
  return { kind: 'put', lease };
}
