import { describe, expect, it } from 'vitest';
import { PrimaryLease, LEASE_SHARE_OF_SESSION } from '../../daemon/runtime/primary-lease.ts';

describe('PrimaryLease', () => {
  it('is invalid until renewed, and then for leaseMs from the time the request was sent', () => {
    let now = 1_000;
    const lease = new PrimaryLease(2_000, () => now);
    expect(lease.valid()).toBe(false);
    lease.renew(900); // sent at 900, answered now (1000)
    expect(lease.valid()).toBe(true);
    expect(lease.remainingMs()).toBe(1_900);
    now = 2_899;
    expect(lease.valid()).toBe(true);
    now = 2_900;
    expect(lease.valid()).toBe(false);
  });

  it('never moves backwards when an older answer arrives late', () => {
    const now = 0;
    const lease = new PrimaryLease(1_000, () => now);
    lease.renew(500);
    lease.renew(100);
    expect(lease.remainingMs()).toBe(1_500);
  });

  it('ends at once when revoked', () => {
    const lease = new PrimaryLease(1_000, () => 0);
    lease.renew(0);
    lease.revoke();
    expect(lease.valid()).toBe(false);
  });

  it('is a share of the session timeout, leaving the rest to stop runnables', () => {
    const lease = PrimaryLease.forSession(4_000, () => 0);
    expect(lease.leaseMs).toBe(4_000 * LEASE_SHARE_OF_SESSION);
    expect(lease.leaseMs).toBeLessThan(4_000);
    expect(lease.renewIntervalMs).toBeLessThan(lease.leaseMs / 2);
  });
});
