import { describe, expect, it } from 'vitest';
import { planVm, type VmPlanInput } from '../../daemon/reconcile/vm-plan.ts';
import type { VmSpec, VmState, VmStatus } from '../../common/zk/schema.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';

const spec = (o: Partial<VmSpec> = {}): VmSpec => ({ ...TEST_GUEST_SPEC, node: 'hv1', ...o });
const status = (state: VmState, node = 'hv1'): VmStatus => ({ state, node, failureReason: null, stats: null, updatedAtMs: 0 });

function plan(o: Partial<VmPlanInput>) {
  return planVm({ me: 'hv1', spec: spec(), status: null, domain: 'absent', shutdownPressedAtMs: null, nowMs: 10_000, shutdownTimeoutMs: 5_000, liveMigrationFailed: false, ...o });
}

describe('planVm: desired start', () => {
  it('starts a new VM, then reports it started, then is settled', () => {
    expect(plan({})).toEqual({ kind: 'start', finish: null });
    expect(plan({ domain: 'running' })).toEqual({ kind: 'report', state: 'start', failureReason: null });
    expect(plan({ domain: 'running', status: status('start') })).toEqual({ kind: 'settled' });
  });

  it('adopts a domain that already runs (a pvcd restart) instead of starting it again', () => {
    expect(plan({ domain: 'running', status: status('start') })).toEqual({ kind: 'settled' });
  });

  it('does not start a VM that another node still reports running', () => {
    expect(plan({ status: status('start', 'hv2') }).kind).toBe('wait');
    expect(plan({ status: status('restart', 'hv2') }).kind).toBe('wait');
    expect(plan({ status: status('stop', 'hv2') })).toEqual({ kind: 'start', finish: null });
  });

  it('leaves a failed start failed until someone asks again', () => {
    expect(plan({ status: status('fail') })).toEqual({ kind: 'settled' });
  });
});

describe('planVm: stop, shutdown, disable', () => {
  it('stop destroys at once', () => {
    expect(plan({ spec: spec({ desiredState: 'stop' }), domain: 'running' }).kind).toBe('destroy');
    expect(plan({ spec: spec({ desiredState: 'stop' }), domain: 'stopped' })).toEqual({ kind: 'report', state: 'stop', failureReason: null });
    expect(plan({ spec: spec({ desiredState: 'stop' }), domain: 'stopped', status: status('stop') })).toEqual({ kind: 'settled' });
  });

  it('shutdown presses the ACPI button, waits, and destroys after the timeout', () => {
    const s = spec({ desiredState: 'shutdown' });
    expect(plan({ spec: s, domain: 'running' })).toEqual({ kind: 'press-acpi' });
    expect(plan({ spec: s, domain: 'running', shutdownPressedAtMs: 9_000 }).kind).toBe('wait');
    expect(plan({ spec: s, domain: 'running', shutdownPressedAtMs: 5_000 })).toMatchObject({ kind: 'destroy', reason: expect.stringMatching(/did not power off within 5000 ms/) });
    expect(plan({ spec: s, domain: 'stopped' })).toEqual({ kind: 'report', state: 'shutdown', failureReason: null });
  });

  it('disable stops gracefully and reports disable', () => {
    const s = spec({ desiredState: 'disable' });
    expect(plan({ spec: s, domain: 'running' })).toEqual({ kind: 'press-acpi' });
    expect(plan({ spec: s, domain: 'absent' })).toEqual({ kind: 'report', state: 'disable', failureReason: null });
  });
});

describe('planVm: restart', () => {
  it('marks the restart, stops gracefully, then starts and finishes the restart', () => {
    const s = spec({ desiredState: 'restart' });
    expect(plan({ spec: s, domain: 'running', status: status('start') })).toEqual({ kind: 'report', state: 'restart', failureReason: null });
    expect(plan({ spec: s, domain: 'running', status: status('restart') })).toEqual({ kind: 'press-acpi' });
    expect(plan({ spec: s, domain: 'stopped', status: status('restart') })).toEqual({ kind: 'start', finish: 'restart' });
  });

  it('restarting a stopped VM just starts it', () => {
    expect(plan({ spec: spec({ desiredState: 'restart' }), domain: 'stopped', status: status('stop') })).toEqual({ kind: 'start', finish: 'restart' });
  });
});

describe('planVm: the VM belongs elsewhere or is gone', () => {
  it('live-migrates a running VM assigned to another node: reports migrate first, then moves it', () => {
    const s = spec({ node: 'hv2', desiredState: 'migrate' });
    expect(plan({ spec: s, domain: 'running', status: status('start') })).toEqual({ kind: 'report', state: 'migrate', failureReason: null });
    expect(plan({ spec: s, domain: 'running', status: status('migrate') })).toEqual({ kind: 'migrate-live', target: 'hv2' });
  });

  it('the new node waits while the old one reports migrate, and finishes a migration it had to start itself', () => {
    const s = spec({ node: 'hv1', desiredState: 'migrate', lastNode: 'hv2' });
    expect(plan({ spec: s, status: status('migrate', 'hv2') }).kind).toBe('wait');
    expect(plan({ spec: s, status: status('stop', 'hv2') })).toEqual({ kind: 'start', finish: 'migrate' });
    expect(plan({ spec: s, domain: 'running', status: status('start') })).toEqual({ kind: 'settled' });
  });

  it('the new node waits while a live migration comes in, until the old node hands the status over', () => {
    const s = spec({ node: 'hv1', desiredState: 'migrate', lastNode: 'hv2' });
    expect(plan({ spec: s, domain: 'running', status: status('migrate', 'hv2') })).toMatchObject({ kind: 'wait', reason: 'incoming migration from hv2' });
    expect(plan({ spec: s, domain: 'running', status: status('start', 'hv1') })).toEqual({ kind: 'settled' });
  });

  it('falls back to a graceful stop when live migration failed or is not the method', () => {
    expect(plan({ spec: spec({ node: 'hv2' }), domain: 'running', status: status('migrate'), liveMigrationFailed: true })).toEqual({ kind: 'press-acpi' });
    const shutdownMethod = spec({ node: 'hv2', placement: { ...TEST_GUEST_SPEC.placement, migrationMethod: 'shutdown' } });
    expect(plan({ spec: shutdownMethod, domain: 'running', status: status('start') })).toEqual({ kind: 'press-acpi' });
  });

  it('stops a VM assigned to another node gracefully, undefines it, and lets go of the status', () => {
    const s = spec({ node: 'hv2', placement: { ...TEST_GUEST_SPEC.placement, migrationMethod: 'shutdown' } });
    expect(plan({ spec: s, domain: 'running', status: status('start') })).toEqual({ kind: 'press-acpi' });
    expect(plan({ spec: s, domain: 'stopped', status: status('start') })).toEqual({ kind: 'undefine' });
    expect(plan({ spec: s, domain: 'absent', status: status('start') })).toEqual({ kind: 'report', state: 'stop', failureReason: null });
    expect(plan({ spec: s, domain: 'absent', status: status('stop') })).toEqual({ kind: 'settled' });
    expect(plan({ spec: s, domain: 'absent', status: status('start', 'hv2') })).toEqual({ kind: 'settled' });
  });

  it('an unplaced VM (node null) never runs here', () => {
    expect(plan({ spec: spec({ node: null }) })).toEqual({ kind: 'settled' });
  });

  it('a removed VM is destroyed and undefined', () => {
    expect(plan({ spec: null, domain: 'running' }).kind).toBe('destroy');
    expect(plan({ spec: null, domain: 'stopped' })).toEqual({ kind: 'undefine' });
    expect(plan({ spec: null })).toEqual({ kind: 'settled' });
  });
});
