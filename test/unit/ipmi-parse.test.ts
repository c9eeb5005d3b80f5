// The ipmitool parsers on output captured from ipmitool 1.8.19 against ipmi_sim.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyIpmitoolError, errorSummary, isControlAccepted, parsePowerStatus } from '../../daemon/drivers/ipmi/parse.ts';

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures/ipmi', name), 'utf8');

describe('ipmitool output parsers', () => {
  it('reads the power state', () => {
    expect(parsePowerStatus(fixture('status-on.txt'))).toBe('on');
    expect(parsePowerStatus(fixture('status-off.txt'))).toBe('off');
    expect(parsePowerStatus(fixture('off.txt'))).toBeNull();
    expect(parsePowerStatus('')).toBeNull();
  });

  it('recognises the success line of each control command, and only that one', () => {
    expect(isControlAccepted('off', fixture('off.txt'))).toBe(true);
    expect(isControlAccepted('on', fixture('on.txt'))).toBe(true);
    expect(isControlAccepted('cycle', fixture('cycle.txt'))).toBe(true);
    expect(isControlAccepted('off', fixture('on.txt'))).toBe(false);
    expect(isControlAccepted('off', fixture('status-off.txt'))).toBe(false);
  });

  it('classifies errors: no session (silent BMC, wrong password, unknown user) or failed', () => {
    expect(classifyIpmitoolError(fixture('error-session.txt'))).toBe('no-session');
    expect(classifyIpmitoolError(fixture('error-unknown-user.txt'))).toBe('no-session');
    expect(classifyIpmitoolError(fixture('error-control-failed.txt'))).toBe('failed');
    expect(classifyIpmitoolError(fixture('error-bogus.txt'))).toBe('failed');
    expect(errorSummary(fixture('error-control-failed.txt'))).toBe('Set Chassis Power Control to Down/Off failed: Invalid data field in request');
    expect(errorSummary('\n\n')).toBe('no error output');
  });
});
