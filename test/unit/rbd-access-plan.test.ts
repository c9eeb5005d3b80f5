import { describe, expect, it } from 'vitest';
import { planRbdAccess, type ClusterNode, type RbdAccessInput } from '../../daemon/reconcile/rbd-access-plan.ts';

const lock = { id: 'auto 139', locker: 'client.4155', address: '127.0.0.1:0/111' };
const watcher = { address: '127.0.0.1:0/111', client: 'client.4155' };

/** A single-host lab: no node publishes a Ceph client IP, so the last node is the holder. */
function input(overrides: Partial<RbdAccessInput> = {}): RbdAccessInput {
  return {
    me: 'hv1',
    vm: 'web1',
    volumes: [{ pool: 'vms', image: 'web1_disk0', watchers: [watcher], locks: [lock] }],
    blocklisted: new Set(),
    lastNode: 'hv2',
    nodes: [node('hv1'), node('hv2'), node('hv3')],
    waitedMs: 0,
    waitLimitMs: 45_000,
    ...overrides,
  };
}

function node(name: string, facts: Partial<ClusterNode> = {}): ClusterNode {
  return { name, cephClientIp: null, alive: true, fenced: false, ...facts };
}

/** hv1 (me) 10.0.0.1, hv2 10.0.0.2, hv3 10.0.0.3, each with its own IP; overrides per node. */
function published(overrides: Record<string, Partial<ClusterNode>> = {}): ClusterNode[] {
  return ['hv1', 'hv2', 'hv3'].map((name, i) => node(name, { cephClientIp: `10.0.0.${i + 1}`, ...overrides[name] }));
}

/** One volume held by a watcher and a lock of each given address. */
function heldBy(...addresses: string[]): RbdAccessInput['volumes'] {
  return [
    {
      pool: 'vms',
      image: 'web1_disk0',
      watchers: addresses.map((address, i) => ({ address, client: `client.${10 + i}` })),
      locks: addresses.map((address, i) => ({ id: `auto ${i}`, locker: `client.${10 + i}`, address })),
    },
  ];
}

describe('planRbdAccess', () => {
  it('opens volumes nobody holds, with nothing to do', () => {
    expect(planRbdAccess(input({ volumes: [{ pool: 'vms', image: 'd', watchers: [], locks: [] }] }))).toEqual({ kind: 'open', blocklist: [], removeLocks: [] });
  });

  it('ignores blocklisted clients and only removes their stale locks', () => {
    expect(planRbdAccess(input({ blocklisted: new Set(['127.0.0.1:0/111']) }))).toEqual({
      kind: 'open',
      blocklist: [],
      removeLocks: [{ pool: 'vms', image: 'web1_disk0', lock }],
    });
  });

  describe('when the address cannot tell whose a client is, the last node holds it', () => {
    it('waits while that node is live, then refuses naming the node, volume and client', () => {
      expect(planRbdAccess(input()).kind).toBe('wait');
      const decision = planRbdAccess(input({ waitedMs: 45_000 }));
      expect(decision.kind).toBe('refuse');
      expect(decision.kind === 'refuse' && decision.reason).toBe('rbd volume(s) of vm web1 are held on live node hv2: vms/web1_disk0 by client 127.0.0.1:0/111');
    });

    it('refuses a holder no node accounts for (the vm never ran)', () => {
      const decision = planRbdAccess(input({ lastNode: null }));
      expect(decision).toMatchObject({ kind: 'refuse' });
      expect(decision.kind === 'refuse' && decision.reason).toContain('no node of the cluster accounts for');
    });

    it('blocklists the clients of a dead node before removing their locks', () => {
      expect(planRbdAccess(input({ nodes: [node('hv1'), node('hv2', { alive: false })] }))).toEqual({
        kind: 'open',
        blocklist: [{ address: '127.0.0.1:0/111', node: 'hv2' }],
        removeLocks: [{ pool: 'vms', image: 'web1_disk0', lock }],
      });
    });

    it('takes a node removed from the cluster as dead', () => {
      expect(planRbdAccess(input({ nodes: [node('hv1')] }))).toMatchObject({ kind: 'open', blocklist: [{ address: '127.0.0.1:0/111', node: 'hv2' }] });
    });

    it('treats a fenced node and this node itself as stale holders', () => {
      expect(planRbdAccess(input({ nodes: [node('hv1'), node('hv2', { fenced: true })] })).kind).toBe('open');
      expect(planRbdAccess(input({ lastNode: 'hv1' }))).toMatchObject({ kind: 'open', blocklist: [{ address: '127.0.0.1:0/111', node: 'hv1' }] });
    });

    it('falls back to the last node when several nodes share the IP (a single-host lab)', () => {
      const nodes = [node('hv1', { cephClientIp: '127.0.0.1' }), node('hv2', { cephClientIp: '127.0.0.1', alive: false })];
      expect(planRbdAccess(input({ nodes }))).toMatchObject({ kind: 'open', blocklist: [{ address: '127.0.0.1:0/111', node: 'hv2' }] });
      const live = [node('hv1', { cephClientIp: '127.0.0.1' }), node('hv2', { cephClientIp: '127.0.0.1' })];
      expect(planRbdAccess(input({ nodes: live })).kind).toBe('wait');
    });

    it('falls back to the last node for an address that does not parse', () => {
      const decision = planRbdAccess(input({ volumes: heldBy('somewhere'), nodes: published({ hv2: { alive: false } }) }));
      expect(decision).toMatchObject({ kind: 'open', blocklist: [{ address: 'somewhere', node: 'hv2' }] });
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

  describe('when exactly one node published the IP, the client is that node\'s', () => {
    it('waits for a client on another live node, even though the last node is dead', () => {
      const decision = planRbdAccess(input({ volumes: heldBy('10.0.0.3:0/77'), nodes: published({ hv2: { alive: false } }), waitedMs: 45_000 }));
      expect(decision).toEqual({ kind: 'refuse', reason: 'rbd volume(s) of vm web1 are held on live node hv3: vms/web1_disk0 by client 10.0.0.3:0/77' });
      expect(planRbdAccess(input({ volumes: heldBy('10.0.0.3:0/77'), nodes: published({ hv2: { alive: false } }) })).kind).toBe('wait');
    });

    it('blocklists a client of a dead node other than the last one, then removes its lock', () => {
      const volumes = heldBy('v2:10.0.0.3:0/77');
      expect(planRbdAccess(input({ volumes, nodes: published({ hv3: { alive: false } }) }))).toEqual({
        kind: 'open',
        blocklist: [{ address: 'v2:10.0.0.3:0/77', node: 'hv3' }],
        removeLocks: [{ pool: 'vms', image: 'web1_disk0', lock: volumes[0]?.locks[0] }],
      });
    });

    it('blocklists a client of a fenced node, alive or not', () => {
      const decision = planRbdAccess(input({ volumes: heldBy('10.0.0.2:0/5'), nodes: published({ hv2: { fenced: true } }) }));
      expect(decision).toMatchObject({ kind: 'open', blocklist: [{ address: '10.0.0.2:0/5', node: 'hv2' }] });
    });

    it('takes a client of this node as stale when the vm last ran here', () => {
      const decision = planRbdAccess(input({ lastNode: 'hv1', volumes: heldBy('10.0.0.1:0/5'), nodes: published() }));
      expect(decision).toMatchObject({ kind: 'open', blocklist: [{ address: '10.0.0.1:0/5', node: 'hv1' }] });
    });

    it('waits for a client of this node when the vm last ran elsewhere (an upload or export here)', () => {
      const decision = planRbdAccess(input({ volumes: heldBy('10.0.0.1:0/5'), nodes: published({ hv2: { alive: false } }) }));
      expect(decision).toEqual({ kind: 'wait', reason: 'rbd volume(s) of vm web1 are held on live node hv1: vms/web1_disk0 by client 10.0.0.1:0/5' });
    });

    it('blocklists a dead node\'s client even when the vm never ran', () => {
      const decision = planRbdAccess(input({ lastNode: null, volumes: heldBy('10.0.0.3:0/5'), nodes: published({ hv3: { alive: false } }) }));
      expect(decision).toMatchObject({ kind: 'open', blocklist: [{ address: '10.0.0.3:0/5', node: 'hv3' }] });
    });

    it('reads IPv6 client addresses in brackets', () => {
      const nodes = [node('hv1', { cephClientIp: 'fd00::1' }), node('hv2', { cephClientIp: 'fd00::2', alive: false })];
      const decision = planRbdAccess(input({ volumes: heldBy('v2:[fd00:0::2]:0/9'), nodes }));
      expect(decision).toMatchObject({ kind: 'open', blocklist: [{ address: 'v2:[fd00:0::2]:0/9', node: 'hv2' }] });
    });
  });

  describe('a client of an IP no node published', () => {
    it('is refused at once, naming the address, though the last node is dead', () => {
      const decision = planRbdAccess(input({ volumes: heldBy('192.0.2.9:0/42'), nodes: published({ hv2: { alive: false } }) }));
      expect(decision).toEqual({
        kind: 'refuse',
        reason: 'rbd volume(s) vms/web1_disk0 of vm web1 are held by client 192.0.2.9:0/42, which is no node of the cluster (no node published 192.0.2.9)',
      });
    });

    it('is refused when the vm never ran', () => {
      const decision = planRbdAccess(input({ lastNode: null, volumes: heldBy('192.0.2.9:0/42'), nodes: published() }));
      expect(decision.kind === 'refuse' && decision.reason).toContain('which is no node of the cluster');
    });

    it('may be the last node\'s when that node published nothing (an older pvcd): the last node\'s rule', () => {
      const nodes = published({ hv2: { cephClientIp: null, alive: false } });
      expect(planRbdAccess(input({ volumes: heldBy('192.0.2.9:0/42'), nodes }))).toMatchObject({ kind: 'open', blocklist: [{ address: '192.0.2.9:0/42', node: 'hv2' }] });
    });
  });

  describe('several holders', () => {
    it('one on a dead node and one on a live node: waits, then refuses; nothing blocklisted', () => {
      const nodes = published({ hv2: { alive: false } });
      const volumes = heldBy('10.0.0.2:0/1', '10.0.0.3:0/2');
      expect(planRbdAccess(input({ volumes, nodes }))).toEqual({ kind: 'wait', reason: 'rbd volume(s) of vm web1 are held on live node hv3: vms/web1_disk0 by client 10.0.0.3:0/2' });
      expect(planRbdAccess(input({ volumes, nodes, waitedMs: 45_000 })).kind).toBe('refuse');
    });

    it('one on a dead node and one of no node: refuses at once; nothing blocklisted', () => {
      const decision = planRbdAccess(input({ volumes: heldBy('10.0.0.2:0/1', '192.0.2.9:0/2'), nodes: published({ hv2: { alive: false } }) }));
      expect(decision.kind).toBe('refuse');
      expect(decision.kind === 'refuse' && decision.reason).toContain('192.0.2.9:0/2, which is no node of the cluster');
    });

    it('one of no node and one on a live node: refuses at once, naming both', () => {
      const decision = planRbdAccess(input({ volumes: heldBy('192.0.2.9:0/2', '10.0.0.3:0/1'), nodes: published() }));
      expect(decision).toEqual({
        kind: 'refuse',
        reason:
          'rbd volume(s) vms/web1_disk0 of vm web1 are held by client 192.0.2.9:0/2, which is no node of the cluster (no node published 192.0.2.9); ' +
          'rbd volume(s) of vm web1 are held on live node hv3: vms/web1_disk0 by client 10.0.0.3:0/1',
      });
    });

    it('on two live nodes: names each node with its clients', () => {
      const decision = planRbdAccess(input({ volumes: heldBy('10.0.0.2:0/1', '10.0.0.3:0/2'), nodes: published(), waitedMs: 45_000 }));
      expect(decision.kind === 'refuse' && decision.reason).toBe(
        'rbd volume(s) of vm web1 are held on live node hv2: vms/web1_disk0 by client 10.0.0.2:0/1; and on live node hv3: vms/web1_disk0 by client 10.0.0.3:0/2',
      );
    });

    it('on a dead and a fenced node: blocklists both, then removes every lock', () => {
      const volumes = heldBy('10.0.0.2:0/1', '10.0.0.3:0/2');
      const decision = planRbdAccess(input({ volumes, nodes: published({ hv2: { alive: false }, hv3: { fenced: true } }) }));
      expect(decision).toEqual({
        kind: 'open',
        blocklist: [
          { address: '10.0.0.2:0/1', node: 'hv2' },
          { address: '10.0.0.3:0/2', node: 'hv3' },
        ],
        removeLocks: (volumes[0]?.locks ?? []).map((l) => ({ pool: 'vms', image: 'web1_disk0', lock: l })),
      });
    });
  });
});
