import { describe, expect, it } from 'vitest';
import { planRbdAccess, type RbdAccessInput } from '../../daemon/reconcile/rbd-access-plan.ts';

const lock = { id: 'auto 139', locker: 'client.4155', address: '127.0.0.1:0/111' };
const watcher = { address: '127.0.0.1:0/111', client: 'client.4155' };

function input(overrides: Partial<RbdAccessInput> = {}): RbdAccessInput {
  return {
    me: 'hv1',
    vm: 'web1',
    volumes: [{ pool: 'vms', image: 'web1_disk0', watchers: [watcher], locks: [lock] }],
    blocklisted: new Set(),
    lastNode: 'hv2',
    lastNodeAlive: true,
    lastNodeFenced: false,
    waitedMs: 0,
    waitLimitMs: 45_000,
    ...overrides,
  };
}

describe('planRbdAccess', () => {
  it('opens volumes nobody holds, with nothing to do', () => {
    expect(planRbdAccess(input({ volumes: [{ pool: 'vms', image: 'd', watchers: [], locks: [] }] }))).toEqual({ kind: 'open', blocklist: [], removeLocks: [] });
  });

  it('waits while a live node holds the volume, then refuses naming the node, volume and client', () => {
    expect(planRbdAccess(input()).kind).toBe('wait');
    const decision = planRbdAccess(input({ waitedMs: 45_000 }));
    expect(decision.kind).toBe('refuse');
    expect(decision.kind === 'refuse' && decision.reason).toBe('rbd volume(s) of vm web1 are held on live node hv2: vms/web1_disk0 by client 127.0.0.1:0/111');
  });

  it('refuses a holder no node accounts for (the vm never ran)', () => {
    const decision = planRbdAccess(input({ lastNode: null, lastNodeAlive: false }));
    expect(decision).toMatchObject({ kind: 'refuse' });
    expect(decision.kind === 'refuse' && decision.reason).toContain('no node of the cluster accounts for');
  });

  it('blocklists the clients of a dead node before removing their locks', () => {
    expect(planRbdAccess(input({ lastNodeAlive: false }))).toEqual({
      kind: 'open',
      blocklist: ['127.0.0.1:0/111'],
      removeLocks: [{ pool: 'vms', image: 'web1_disk0', lock }],
    });
  });

  it('treats a fenced node and this node itself as stale holders', () => {
    expect(planRbdAccess(input({ lastNodeFenced: true })).kind).toBe('open');
    expect(planRbdAccess(input({ lastNode: 'hv1' }))).toMatchObject({ kind: 'open', blocklist: ['127.0.0.1:0/111'] });
  });

  it('ignores blocklisted clients and only removes their stale locks', () => {
    expect(planRbdAccess(input({ blocklisted: new Set(['127.0.0.1:0/111']) }))).toEqual({
      kind: 'open',
      blocklist: [],
      removeLocks: [{ pool: 'vms', image: 'web1_disk0', lock }],
    });
  });

  it('names every held volume once per client', () => {
    const volumes = [
      { pool: 'vms', image: 'a', watchers: [watcher], locks: [lock] },
      { pool: 'vms', image: 'b', watchers: [{ address: '127.0.0.1:0/222', client: 'client.9' }], locks: [] },
    ];
    const decision = planRbdAccess(input({ volumes, waitedMs: 50_000 }));
    expect(decision.kind === 'refuse' && decision.reason).toBe('rbd volume(s) of vm web1 are held on live node hv2: vms/a by client 127.0.0.1:0/111; vms/b by client 127.0.0.1:0/222');
  });
});
