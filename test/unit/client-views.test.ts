// The client's views: which daemon and coordinator state a node is shown in, derived from its
// spec, its last status, whether its `alive` ephemeral exists, and who holds the primary lock.
import { describe, expect, it } from 'vitest';
import { countNodes, nodeView, nodeViews, shownCoordinatorState, shownDaemonState, shownDomainState, type NodeFacts } from '../../common/client/views.ts';
import type { CoordinatorState, DaemonState, NodeSpec, NodeStatus } from '../../common/zk/schema.ts';

function status(daemonState: DaemonState, coordinatorState: CoordinatorState = 'secondary'): NodeStatus {
  return {
    daemonState,
    coordinatorState,
    pvcdVersion: '0.1.0',
    pid: 4242,
    keepaliveSeq: 7,
    updatedAtMs: 1_700_000_000_000,
    host: { cores: 4, loadAvg: [0.5, 0.25, 0.125], memoryTotalMiB: 8192, memoryUsedMiB: 2048, memoryFreeMiB: 6144, uptimeS: 3600 },
  };
}

const coord = (name: string): NodeSpec => ({ name, role: 'coordinator' });
const hv = (name: string): NodeSpec => ({ name, role: 'hypervisor' });

describe('shownDaemonState', () => {
  it.each(['init', 'run', 'shutdown'] as const)('shows %s as written while the node is alive', (state) => {
    expect(shownDaemonState(status(state), true)).toBe(state);
  });

  it.each(['init', 'run', 'shutdown'] as const)('shows %s as dead when the alive ephemeral is missing', (state) => {
    expect(shownDaemonState(status(state), false)).toBe('dead');
  });

  it.each(['stop', 'dead', 'fenced'] as const)('shows %s as written, alive or not', (state) => {
    expect(shownDaemonState(status(state), false)).toBe(state);
    expect(shownDaemonState(status(state), true)).toBe(state);
  });

  it('shows a node without a status yet as init, alive or not', () => {
    expect(shownDaemonState(null, false)).toBe('init');
    expect(shownDaemonState(null, true)).toBe('init');
  });
});

describe('shownCoordinatorState', () => {
  it('shows primary only for the holder of the primary lock', () => {
    expect(shownCoordinatorState(coord('c1'), status('run', 'primary'), 'c1')).toBe('primary');
    expect(shownCoordinatorState(coord('c2'), status('run', 'primary'), 'c1')).toBe('secondary');
    expect(shownCoordinatorState(coord('c2'), status('run', 'primary'), null)).toBe('secondary');
  });

  it('shows the lock holder as primary even when its status lags behind', () => {
    expect(shownCoordinatorState(coord('c1'), status('run', 'takeover'), 'c1')).toBe('primary');
    expect(shownCoordinatorState(coord('c1'), null, 'c1')).toBe('primary');
  });

  it('shows the other states as written', () => {
    expect(shownCoordinatorState(coord('c1'), status('run', 'takeover'), 'c2')).toBe('takeover');
    expect(shownCoordinatorState(coord('c1'), status('run', 'relinquish'), 'c2')).toBe('relinquish');
    expect(shownCoordinatorState(hv('h1'), status('run', 'client'), 'c2')).toBe('client');
  });

  it('shows a node without a status as secondary (coordinator) or client (hypervisor)', () => {
    expect(shownCoordinatorState(coord('c1'), null, 'c2')).toBe('secondary');
    expect(shownCoordinatorState(hv('h1'), null, 'c2')).toBe('client');
  });
});

describe('nodeView', () => {
  it('keeps the reported state beside the shown one, and the status fields', () => {
    const view = nodeView({ spec: coord('c1'), status: status('run', 'primary'), alive: false }, 'c2');
    expect(view).toEqual({
      name: 'c1',
      role: 'coordinator',
      daemonState: 'dead',
      coordinatorState: 'secondary',
      alive: false,
      reportedDaemonState: 'run',
      pvcdVersion: '0.1.0',
      pid: 4242,
      updatedAtMs: 1_700_000_000_000,
      host: status('run').host,
      domainState: 'ready',
      hypervisor: null,
      deadReason: expect.stringMatching(/^session-lost: .*not fenced yet/),
    });
  });

  it('shows a fenced node fenced (dead while its fence runs), with the reason and the steps', () => {
    const fence = { node: 'c1', reason: 'keepalive-stale' as const, detail: 'keepalive 4 has not moved for 5100 ms', by: 'c2', startedAtMs: 1, steps: [{ step: 'power-off' as const, result: 'done' as const, detail: 'off', atMs: 2 }], outcome: 'in-progress' as const };
    expect(nodeView({ spec: coord('c1'), status: status('run'), alive: false, fence }, 'c2').daemonState).toBe('dead');
    const fenced = nodeView({ spec: coord('c1'), status: status('run'), alive: false, fence: { ...fence, outcome: 'fenced' } }, 'c2');
    expect(fenced.daemonState).toBe('fenced');
    expect(fenced.deadReason).toBe('keepalive-stale: keepalive 4 has not moved for 5100 ms [fence fenced; power-off done]');
    // Booted again, its pvcd reports fenced until `pvc node ready`.
    expect(nodeView({ spec: coord('c1'), status: status('fenced'), alive: true, fence: { ...fence, outcome: 'fenced' } }, 'c2').daemonState).toBe('fenced');
    // A fence record alone does not make a live, running node fenced (its pvcd has not seen it yet).
    expect(nodeView({ spec: coord('c1'), status: status('run'), alive: true, fence }, 'c2').daemonState).toBe('run');
  });

  it('shows what was asked of the node\'s VMs, and flushed once none runs there', () => {
    expect(nodeView({ spec: { ...coord('c1'), domainState: 'flush' }, status: null, alive: true }, null).domainState).toBe('flush');
    expect(shownDomainState('flush', 2)).toBe('flush');
    expect(shownDomainState('flush', 0)).toBe('flushed');
    expect(shownDomainState('ready', 0)).toBe('ready');
  });

  it('fills the status fields with null before the first status', () => {
    const view = nodeView({ spec: hv('h1'), status: null, alive: true }, null);
    expect(view).toMatchObject({ daemonState: 'init', coordinatorState: 'client', reportedDaemonState: null, pvcdVersion: null, pid: null, host: null, updatedAtMs: null });
  });
});

describe('nodeViews and countNodes', () => {
  const facts: NodeFacts[] = [
    { spec: hv('hv2'), status: status('run', 'client'), alive: true },
    { spec: coord('c2'), status: status('run'), alive: false },
    { spec: coord('c1'), status: status('run', 'primary'), alive: true },
    { spec: hv('hv1'), status: null, alive: false },
    { spec: coord('c3'), status: status('fenced'), alive: false },
  ];

  it('sorts by name', () => {
    expect(nodeViews(facts, 'c1').map((v) => v.name)).toEqual(['c1', 'c2', 'c3', 'hv1', 'hv2']);
  });

  it('counts shown daemon states (every state present) and roles', () => {
    expect(countNodes(nodeViews(facts, 'c1'))).toEqual({
      total: 5,
      coordinators: 3,
      hypervisors: 2,
      byDaemonState: { init: 1, run: 2, shutdown: 0, stop: 0, dead: 1, fenced: 1 },
    });
  });

  it('counts an empty cluster as zeros', () => {
    expect(countNodes([])).toEqual({ total: 0, coordinators: 0, hypervisors: 0, byDaemonState: { init: 0, run: 0, shutdown: 0, stop: 0, dead: 0, fenced: 0 } });
  });
});
