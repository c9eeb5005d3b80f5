// The placement planner: who may receive VMs, what each selector prefers, how assignments count
// in the next choice, the reasons shown for VMs that fit nowhere, and seeded property checks
// (never over memory, node_limit honoured, only run+ready nodes, independent of input order).
import { describe, expect, it } from 'vitest';
import { planPlacement, type PlacementInput, type PlacementNode, type PlacementRequest } from '../../common/vm/placement.ts';
import { DAEMON_STATES, NODE_DOMAIN_STATES, VM_SELECTORS, type VmSelector } from '../../common/zk/schema.ts';
import { seededRandom as seeded } from '../helpers/seeded-random.ts';

function node(name: string, over: Partial<PlacementNode> = {}): PlacementNode {
  return { name, daemonState: 'run', domainState: 'ready', memoryTotalMiB: 16_384, memoryUsedMiB: 0, memoryProvisionedMiB: 0, vcpusAllocated: 0, load: 0, vmCount: 0, ...over };
}

function vm(name: string, over: Partial<PlacementRequest> = {}): PlacementRequest {
  return { vm: name, memoryMiB: 1024, vcpus: 1, nodeLimit: [], selector: null, ...over };
}

function plan(nodes: PlacementNode[], vms: PlacementRequest[], defaultSelector: VmSelector = 'mem') {
  return planPlacement({ nodes, vms, defaultSelector });
}


describe('who receives VMs', () => {
  it('only nodes in daemon state run and domain state ready', () => {
    const nodes = [
      node('a', { daemonState: 'init' }), node('b', { domainState: 'flush' }), node('c', { daemonState: 'dead' }),
      node('d', { domainState: 'flushed' }), node('e', { memoryTotalMiB: 1024 }),
    ];
    expect(plan(nodes, [vm('v1')]).assignments).toEqual([{ vm: 'v1', node: 'e' }]);
  });

  it('says so when no node is in run+ready', () => {
    const result = plan([node('a', { domainState: 'flush' }), node('b', { daemonState: 'stop' })], [vm('v1'), vm('v2')]);
    expect(result.assignments).toEqual([]);
    expect(result.unplaced).toEqual([
      { vm: 'v1', reason: 'no node in run+ready (2 nodes known)' },
      { vm: 'v2', reason: 'no node in run+ready (2 nodes known)' },
    ]);
    expect(plan([], [vm('v1')]).unplaced[0]?.reason).toBe('no node in run+ready (0 nodes known)');
  });

  it('honours node_limit, and says when it excludes every ready node', () => {
    const nodes = [node('a'), node('b', { memoryUsedMiB: 8_000 }), node('c', { domainState: 'flush' })];
    expect(plan(nodes, [vm('v1', { nodeLimit: ['b', 'c'] })]).assignments).toEqual([{ vm: 'v1', node: 'b' }]);
    expect(plan(nodes, [vm('v2', { nodeLimit: ['c', 'zz'] })]).unplaced).toEqual([{ vm: 'v2', reason: 'node_limit [c, zz] excludes every ready node' }]);
  });
});

describe('selectors', () => {
  const nodes = [
    node('a', { memoryUsedMiB: 2_000, memoryProvisionedMiB: 9_000, vcpusAllocated: 3, load: 0.5, vmCount: 9 }),
    node('b', { memoryUsedMiB: 6_000, memoryProvisionedMiB: 1_000, vcpusAllocated: 8, load: 2.0, vmCount: 1 }),
    node('c', { memoryUsedMiB: 4_000, memoryProvisionedMiB: 5_000, vcpusAllocated: 1, load: 0.1, vmCount: 5 }),
  ];

  it.each<[VmSelector, string]>([['mem', 'a'], ['memprov', 'b'], ['vcpus', 'c'], ['load', 'c'], ['vms', 'b']])('%s picks %s', (selector, expected) => {
    expect(plan(nodes, [vm('v1', { selector })]).assignments).toEqual([{ vm: 'v1', node: expected }]);
  });

  it('uses the cluster default when the vm has none', () => {
    expect(plan(nodes, [vm('v1')], 'vms').assignments[0]?.node).toBe('b');
    expect(plan(nodes, [vm('v1', { selector: 'vcpus' })], 'vms').assignments[0]?.node).toBe('c');
  });

  it('breaks ties by node name, whatever the input order', () => {
    const same = [node('c'), node('a'), node('b')];
    for (const selector of VM_SELECTORS) expect(plan(same, [vm('v1', { selector })]).assignments[0]?.node, selector).toBe('a');
  });
});

describe('accounting', () => {
  it.each(VM_SELECTORS)('%s spreads a batch over equal nodes instead of piling it on one', (selector) => {
    const result = plan([node('a'), node('b')], Array.from({ length: 10 }, (_, i) => vm(`v${i}`, { selector })));
    const counts = { a: 0, b: 0 };
    for (const { node: n } of result.assignments) counts[n as 'a' | 'b'] += 1;
    expect(counts).toEqual({ a: 5, b: 5 });
  });

  it('places the largest VMs first so that small ones fill the gaps', () => {
    const result = plan([node('a', { memoryTotalMiB: 3_000 }), node('b', { memoryTotalMiB: 2_000 })], [vm('small', { memoryMiB: 1_000 }), vm('big', { memoryMiB: 2_000 }), vm('mid', { memoryMiB: 2_000 })]);
    expect(result.unplaced).toEqual([]);
    expect(result.assignments).toEqual([{ vm: 'big', node: 'a' }, { vm: 'mid', node: 'b' }, { vm: 'small', node: 'a' }]);
  });

  it('skips a node without room for this vm but uses it for a smaller one', () => {
    const nodes = [node('a', { vmCount: 0, memoryTotalMiB: 1_500 }), node('b', { vmCount: 50 })];
    const result = plan(nodes, [vm('big', { memoryMiB: 4_000, selector: 'vms' }), vm('small', { memoryMiB: 1_000, selector: 'vms' })]);
    expect(result.assignments).toEqual([{ vm: 'big', node: 'b' }, { vm: 'small', node: 'a' }]);
  });

  it('says how much memory is missing and which node came closest', () => {
    const nodes = [node('a', { memoryTotalMiB: 4_096, memoryUsedMiB: 3_072 }), node('b', { memoryTotalMiB: 2_048 })];
    const result = plan(nodes, [vm('huge', { memoryMiB: 8_192 }), vm('fits', { memoryMiB: 2_048 }), vm('late', { memoryMiB: 2_000 })]);
    expect(result.assignments).toEqual([{ vm: 'fits', node: 'b' }]);
    expect(result.unplaced).toEqual([
      { vm: 'huge', reason: 'not enough free memory: needs 8192 MiB, best node b has 2048 MiB' },
      { vm: 'late', reason: 'not enough free memory: needs 2000 MiB, best node a has 1024 MiB' },
    ]);
  });

  it('counts memory used beyond the total as no free memory', () => {
    expect(plan([node('a', { memoryTotalMiB: 1_000, memoryUsedMiB: 5_000 })], [vm('v')]).unplaced[0]?.reason).toBe('not enough free memory: needs 1024 MiB, best node a has 0 MiB');
  });
});

describe('properties (seeded)', () => {
  const SEEDS = 60;

  function randomInput(seed: number): PlacementInput {
    const random = seeded(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const nodeCount = 1 + Math.floor(random() * 12);
    const nodes = Array.from({ length: nodeCount }, (_, i) =>
      node(`n${i}`, {
        daemonState: random() < 0.8 ? 'run' : pick(DAEMON_STATES),
        domainState: random() < 0.8 ? 'ready' : pick(NODE_DOMAIN_STATES),
        memoryTotalMiB: 1_024 * (1 + Math.floor(random() * 16)),
        memoryUsedMiB: Math.floor(random() * 4_096),
        memoryProvisionedMiB: Math.floor(random() * 8_192),
        vcpusAllocated: Math.floor(random() * 32),
        load: random() * 4,
        vmCount: Math.floor(random() * 10),
      }),
    );
    const vms = Array.from({ length: Math.floor(random() * 80) }, (_, i) =>
      vm(`v${i}`, {
        memoryMiB: 128 * (1 + Math.floor(random() * 16)),
        vcpus: 1 + Math.floor(random() * 4),
        nodeLimit: random() < 0.3 ? Array.from({ length: 1 + Math.floor(random() * 3) }, () => `n${Math.floor(random() * (nodeCount + 2))}`) : [],
        selector: random() < 0.3 ? null : pick(VM_SELECTORS),
      }),
    );
    return { nodes, vms, defaultSelector: pick(VM_SELECTORS) };
  }

  /** Same order and rules as the planner, without heaps: every VM looks at every node. */
  function referencePlan(input: PlacementInput) {
    const ready = input.nodes
      .filter((n) => n.daemonState === 'run' && n.domainState === 'ready')
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((n) => ({ name: n.name, free: Math.max(0, n.memoryTotalMiB - n.memoryUsedMiB), prov: n.memoryProvisionedMiB, vcpus: n.vcpusAllocated, load: n.load, vms: n.vmCount }));
    const key = (selector: VmSelector, n: (typeof ready)[number]): number =>
      ({ mem: -n.free, memprov: n.prov, vcpus: n.vcpus, load: n.load, vms: n.vms })[selector];
    const order = [...input.vms].sort((a, b) => b.memoryMiB - a.memoryMiB || (a.vm < b.vm ? -1 : 1));
    const assignments: Array<{ vm: string; node: string }> = [];
    const unplaced: string[] = [];
    for (const v of order) {
      const selector = v.selector ?? input.defaultSelector;
      let best: (typeof ready)[number] | undefined;
      for (const n of ready) {
        if (v.nodeLimit.length > 0 && !v.nodeLimit.includes(n.name)) continue;
        if (n.free < v.memoryMiB) continue;
        if (!best || key(selector, n) < key(selector, best)) best = n;
      }
      if (!best) {
        unplaced.push(v.vm);
        continue;
      }
      best.free -= v.memoryMiB;
      best.prov += v.memoryMiB;
      best.vcpus += v.vcpus;
      best.load += v.vcpus;
      best.vms += 1;
      assignments.push({ vm: v.vm, node: best.name });
    }
    return { assignments: assignments.sort((a, b) => (a.vm < b.vm ? -1 : 1)), unplaced: unplaced.sort() };
  }

  function shuffled<T>(list: readonly T[], random: () => number): T[] {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))('seed %i: every rule holds', (seed) => {
    const input = randomInput(seed);
    const result = planPlacement(input);
    const nodes = new Map(input.nodes.map((n) => [n.name, n]));
    const vms = new Map(input.vms.map((v) => [v.vm, v]));

    // Every VM exactly once, either placed or with a reason.
    const seen = [...result.assignments.map((a) => a.vm), ...result.unplaced.map((u) => u.vm)].sort();
    expect(seen).toEqual([...vms.keys()].sort());

    const added = new Map<string, number>();
    for (const { vm: name, node: target } of result.assignments) {
      const request = vms.get(name) as PlacementRequest;
      const chosen = nodes.get(target) as PlacementNode;
      expect([chosen.daemonState, chosen.domainState], `${name} -> ${target}`).toEqual(['run', 'ready']);
      if (request.nodeLimit.length > 0) expect(request.nodeLimit, `${name} -> ${target}`).toContain(target);
      added.set(target, (added.get(target) ?? 0) + request.memoryMiB);
    }
    // Never over memory.
    for (const [name, memory] of added) {
      const n = nodes.get(name) as PlacementNode;
      expect(memory, `memory placed on ${name}`).toBeLessThanOrEqual(n.memoryTotalMiB - n.memoryUsedMiB);
    }
    // A VM left out for memory fits on none of its eligible nodes at the end either.
    for (const { vm: name, reason } of result.unplaced) {
      if (!reason.startsWith('not enough free memory')) continue;
      const request = vms.get(name) as PlacementRequest;
      for (const n of input.nodes) {
        if (n.daemonState !== 'run' || n.domainState !== 'ready') continue;
        if (request.nodeLimit.length > 0 && !request.nodeLimit.includes(n.name)) continue;
        expect(n.memoryTotalMiB - n.memoryUsedMiB - (added.get(n.name) ?? 0), `${name} on ${n.name}`).toBeLessThan(request.memoryMiB);
      }
    }
    // The same choices as a plain scan of every node for every VM (the obvious O(V*N) planner).
    expect({ assignments: result.assignments, unplaced: result.unplaced.map((u) => u.vm) }).toEqual(referencePlan(input));
    // Deterministic, and independent of the order of the input.
    const random = seeded(seed * 7919);
    expect(planPlacement({ ...input, nodes: shuffled(input.nodes, random), vms: shuffled(input.vms, random) })).toEqual(result);
  });
});

describe('scale', () => {
  it('places 10,000 VMs on 200 nodes (timing is for test/bench/placement.ts)', () => {
    const nodes = Array.from({ length: 200 }, (_, i) => node(`hv${i}`, { memoryTotalMiB: 512 * 1024 }));
    const vms = Array.from({ length: 10_000 }, (_, i) => vm(`vm${i}`, { memoryMiB: 1024 * (1 + (i % 8)), selector: VM_SELECTORS[i % VM_SELECTORS.length] as VmSelector }));
    const result = plan(nodes, vms);
    expect(result.assignments).toHaveLength(10_000);
    const perNode = new Map<string, number>();
    for (const a of result.assignments) perNode.set(a.node, (perNode.get(a.node) ?? 0) + 1);
    expect(perNode.size).toBe(200);
  });
});
