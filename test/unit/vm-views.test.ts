// The client's VM views and pure rules: the state a VM is shown in, the list filters, when a
// state change counts as reached (or failed), the tail of a console log, and how a modified
// definition is merged with the stored spec.
import { describe, expect, it } from 'vitest';
import { lastLines } from '../../common/client/vm-log.ts';
import { modifiedSpec } from '../../common/client/vm-modify.ts';
import type { VmFacts } from '../../common/client/vm-read.ts';
import { describeVmProgress, judgeVmState, parseVmStateAction } from '../../common/client/vm-state.ts';
import { parseVmListFilter, shownVmState, vmInfoView, vmMayBeRunning, vmView, vmViews } from '../../common/client/vm-views.ts';
import type { VmSpec, VmState, VmStatus } from '../../common/zk/schema.ts';
import { FULL_SPEC, countingRandom } from '../helpers/vm-fixtures.ts';
import { thrown } from '../helpers/thrown.ts';

function facts(spec: Partial<VmSpec> = {}, status: Partial<VmStatus> | null = null, unplaced: string | null = null): VmFacts {
  const full = { ...FULL_SPEC, ...spec };
  return {
    spec: { value: full, version: 3 },
    status: status === null ? null : { state: 'start', node: full.node ?? 'hv1', failureReason: null, stats: null, updatedAtMs: 1_700_000_000_000, ...status },
    unplaced: unplaced === null ? null : { reason: unplaced },
  };
}

describe('shownVmState and vmView', () => {
  it('shows the reported state, whatever the desired one', () => {
    expect(shownVmState(facts({ desiredState: 'stop' }, { state: 'start' }))).toBe('start');
  });

  it('shows unplaced without a node and pending with a node that has not reported', () => {
    expect(shownVmState(facts({ node: null }))).toBe('unplaced');
    expect(shownVmState(facts({ node: 'hv2' }))).toBe('pending');
  });

  it('gives the unplaced reason only while the VM has no node, and the failure reason', () => {
    expect(vmView(facts({ node: null }, null, 'no node in run+ready'))).toMatchObject({ state: 'unplaced', unplacedReason: 'no node in run+ready', node: null });
    expect(vmView(facts({ node: 'hv1' }, null, 'stale')).unplacedReason).toBeNull();
    expect(vmView(facts({}, { state: 'fail', failureReason: 'no such kernel' }))).toMatchObject({ state: 'fail', failureReason: 'no such kernel' });
  });

  it('carries the spec fields people look for, and the rest in the info view', () => {
    const view = vmView(facts({ lastNode: 'hv2' }, { state: 'start', node: 'hv2' }));
    expect(view).toEqual({
      name: 'web1',
      uuid: FULL_SPEC.uuid,
      state: 'start',
      desiredState: 'start',
      node: 'hv1',
      lastNode: 'hv2',
      statusNode: 'hv2',
      vcpus: 2,
      memoryMiB: 2048,
      tags: ['web', 'prod'],
      failureReason: null,
      unplacedReason: null,
      updatedAtMs: 1_700_000_000_000,
    });
    const info = vmInfoView(facts());
    expect(info).toMatchObject({ disks: FULL_SPEC.disks, nics: FULL_SPEC.nics, placement: FULL_SPEC.placement, rawXml: false, stats: null });
  });

  it.each([
    [null, false],
    ['start', true],
    ['migrate', true],
    ['restart', true],
    ['stop', false],
    ['shutdown', false],
    ['disable', false],
    ['fail', false],
  ] as Array<[VmState | null, boolean]>)('status %s: may be running %s', (state, running) => {
    expect(vmMayBeRunning(state === null ? null : { state })).toBe(running);
  });
});

describe('list filters', () => {
  const all = [
    facts({ name: 'b', node: 'hv1', tags: ['web'] }, { state: 'start' }),
    facts({ name: 'a', node: 'hv2', tags: ['db'] }, { state: 'stop' }),
    facts({ name: 'c', node: null, tags: ['web'] }),
  ];

  it('accepts node, state (including unplaced and pending) and tag', () => {
    expect(parseVmListFilter({ node: 'hv1', state: 'unplaced', tag: 'web' })).toEqual({ node: 'hv1', state: 'unplaced', tag: 'web' });
    expect(parseVmListFilter({ state: 'pending' })).toEqual({ state: 'pending' });
  });

  it('refuses a wrong value, naming it', () => {
    expect(thrown(() => parseVmListFilter({ state: 'running' })).message).toBe(
      'invalid state filter "running": use one of start, stop, shutdown, restart, disable, fail, migrate, unmigrate, provision, unplaced, pending',
    );
    expect(thrown(() => parseVmListFilter({ node: 'HV1' })).message).toContain('invalid node name "HV1"');
    expect(thrown(() => parseVmListFilter({ tag: '' })).code).toBe('bad-input');
  });

  it('filters and sorts by name', () => {
    expect(vmViews(all).map((v) => v.name)).toEqual(['a', 'b', 'c']);
    expect(vmViews(all, { tag: 'web' }).map((v) => v.name)).toEqual(['b', 'c']);
    expect(vmViews(all, { node: 'hv2' }).map((v) => v.name)).toEqual(['a']);
    expect(vmViews(all, { state: 'unplaced' }).map((v) => v.name)).toEqual(['c']);
    expect(vmViews(all, { state: 'start', tag: 'db' })).toEqual([]);
  });
});

describe('judgeVmState: when a state change is reached', () => {
  it('start: reached when its own node reports start; failed when it reports fail', () => {
    expect(judgeVmState('start', 'web1', facts({}, { state: 'start' }))).toEqual({ kind: 'done' });
    expect(judgeVmState('start', 'web1', facts())).toBeNull();
    expect(judgeVmState('start', 'web1', facts({}, { state: 'start', node: 'hv9' }))).toBeNull();
    const failed = judgeVmState('start', 'web1', facts({}, { state: 'fail', failureReason: 'kernel missing' }));
    expect(failed?.kind === 'failed' && failed.error.message).toBe('vm web1 failed on node hv1: kernel missing');
  });

  it('restart: reached only once the desired state is back at start', () => {
    expect(judgeVmState('restart', 'web1', facts({ desiredState: 'restart' }, { state: 'start' }))).toBeNull();
    expect(judgeVmState('restart', 'web1', facts({ desiredState: 'restart' }, { state: 'restart' }))).toBeNull();
    expect(judgeVmState('restart', 'web1', facts({ desiredState: 'start' }, { state: 'start' }))).toEqual({ kind: 'done' });
  });

  it('stop, shutdown, disable: reached when reported, or at once for a VM that was never placed', () => {
    for (const action of ['stop', 'shutdown', 'disable'] as const) {
      expect(judgeVmState(action, 'web1', facts({ desiredState: action }, { state: action }))).toEqual({ kind: 'done' });
      expect(judgeVmState(action, 'web1', facts({ desiredState: action }, { state: 'start' }))).toBeNull();
      // A failure is overwritten by the node once it acts on the new desired state.
      expect(judgeVmState(action, 'web1', facts({ desiredState: action }, { state: 'fail' }))).toBeNull();
      expect(judgeVmState(action, 'web1', facts({ desiredState: action, node: null }))).toEqual({ kind: 'done' });
    }
  });

  it('fails when the VM goes or someone else changes its desired state', () => {
    expect(judgeVmState('stop', 'web1', null)).toMatchObject({ kind: 'failed', error: { code: 'not-found' } });
    const changed = judgeVmState('stop', 'web1', facts({ desiredState: 'start' }, { state: 'start' }));
    expect(changed?.kind === 'failed' && changed.error.message).toContain('changed to start by someone else');
  });

  it('says why a wait is not over', () => {
    expect(describeVmProgress('web1', facts({ node: null }, null, 'no node in run+ready'))).toBe('vm web1 has no node yet (no node in run+ready)');
    expect(describeVmProgress('web1', facts())).toContain('node hv1 has reported nothing');
    expect(describeVmProgress('web1', facts({ desiredState: 'stop' }, { state: 'start' }))).toBe('desired state stop; node hv1 reports start');
  });

  it('parses the actions a client may ask for', () => {
    expect(parseVmStateAction('shutdown')).toBe('shutdown');
    expect(thrown(() => parseVmStateAction('fail')).message).toBe('invalid vm state "fail": use one of start, stop, shutdown, restart, disable');
  });
});

describe('lastLines', () => {
  it.each([
    ['a\nb\nc\n', 2, 'b\nc\n'],
    ['a\nb\nc', 2, 'b\nc'],
    ['a\nb\n', 5, 'a\nb\n'],
    ['', 3, ''],
    ['only', 1, 'only'],
  ])('%j, %i lines', (text, lines, expected) => {
    expect(lastLines(text, lines)).toBe(expected);
  });
});

describe('modifiedSpec', () => {
  const stored: VmSpec = { ...FULL_SPEC, desiredState: 'shutdown', node: 'hv2', lastNode: 'hv1' };
  const definition = { name: 'web1', vcpus: 4, memoryMiB: 4096, nics: [{ network: 'vni100' }, { network: 'vni300' }] };

  it('replaces the definition, keeping uuid, node, lastNode, desired state and the macs of NICs in place', () => {
    const next = modifiedSpec(stored, definition, countingRandom());
    expect(next).toMatchObject({ name: 'web1', uuid: stored.uuid, vcpus: 4, memoryMiB: 4096, node: 'hv2', lastNode: 'hv1', desiredState: 'shutdown', disks: [], tags: [] });
    expect(next.nics).toEqual([
      { network: 'vni100', mac: '52:54:00:12:34:56' },
      { network: 'vni300', mac: '52:54:00:ab:cd:ef' },
    ]);
  });

  it('takes node and desired state when the definition gives them', () => {
    expect(modifiedSpec(stored, { ...definition, node: null, desiredState: 'stop' }, countingRandom())).toMatchObject({ node: null, desiredState: 'stop' });
  });

  it('gives back the stored spec unchanged from its own dump', () => {
    expect(modifiedSpec(stored, structuredClone(stored), countingRandom())).toEqual(stored);
  });

  it('refuses a rename, another uuid, and a lastNode of its own', () => {
    expect(thrown(() => modifiedSpec(stored, { ...definition, name: 'web2' }, countingRandom())).message).toBe(
      'the definition names vm "web2", not "web1": a vm cannot be renamed',
    );
    const uuid = '6d1c0a4e-0000-4000-8000-0000000000ff';
    expect(thrown(() => modifiedSpec(stored, { ...definition, uuid }, countingRandom())).message).toBe(`invalid uuid "${uuid}": vm web1 keeps its uuid ${stored.uuid}`);
    expect(thrown(() => modifiedSpec(stored, { ...definition, lastNode: 'hv3' }, countingRandom())).message).toContain('invalid lastNode "hv3"');
  });

  it('refuses what a definition refuses, with its message', () => {
    expect(thrown(() => modifiedSpec(stored, { ...definition, vcpus: 0 }, countingRandom())).message).toContain('invalid vm definition "web1": vcpus');
    expect(thrown(() => modifiedSpec(stored, 'text', countingRandom())).code).toBe('bad-input');
  });
});
