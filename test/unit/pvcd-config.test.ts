import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../daemon/config.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pvcd-config-'));
const base = { cluster: 'c1', node: 'n1', role: 'coordinator', zookeeper: { hosts: '127.0.0.1:2181', user: 'pvc', password: 'pw' } };

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('pvcd config', () => {
  it('fills in the documented defaults', () => {
    const config = validateConfig(base, 'test');
    expect(config.timeouts).toMatchObject({ sessionTimeoutMs: 4_000, keepaliveIntervalMs: 1_000, resyncIntervalMs: 5_000 });
    // No runnables: the one share is the whole margin between lease end and session end.
    expect(config.timeouts.runnableStopTimeoutMs).toBe(2_000);
    expect(validateConfig({ ...base, coordinator: { runnables: ['primary-journal', 'placement'], primaryJournal: { path: '/tmp/j' } } }, 't').timeouts.runnableStopTimeoutMs).toBe(1_000);
    expect(config.coordinator.runnables).toEqual([]);
    expect(config.logLevel).toBe('info');
  });

  it('lets flags override the file', () => {
    const p = file('a.yaml', 'cluster: c1\nnode: n1\nrole: coordinator\nzookeeper: { hosts: "127.0.0.1:2181", user: pvc, password: pw }\n');
    const config = loadConfig(['--config', p, '--node', 'n9', '--role', 'hypervisor', '--zk-hosts', 'z1:1,z2:2']);
    expect(config).toMatchObject({ node: 'n9', role: 'hypervisor', zookeeper: { hosts: 'z1:1,z2:2', user: 'pvc' } });
  });

  it('reads the password from a file and refuses both or neither', () => {
    const pw = file('pw', 's3cret\n');
    expect(validateConfig({ ...base, zookeeper: { hosts: '127.0.0.1:2181', user: 'pvc', passwordFile: pw } }, 't').zookeeper.password).toBe('s3cret');
    expect(() => validateConfig({ ...base, zookeeper: { hosts: '127.0.0.1:2181', user: 'pvc' } }, 't')).toThrow(/exactly one of password and passwordFile/);
    expect(() => validateConfig({ ...base, zookeeper: { ...base.zookeeper, passwordFile: pw } }, 't')).toThrow(/exactly one/);
  });

  it('never echoes a password back in an error', () => {
    expect(() => validateConfig({ ...base, zookeeper: { ...base.zookeeper, password: 42 } }, 't')).toThrow(/zookeeper\.password/);
    try {
      validateConfig({ ...base, zookeeper: { ...base.zookeeper, password: 42 } }, 't');
    } catch (error) {
      expect(String(error)).not.toMatch(/42/);
    }
  });

  it('refuses runnables on a hypervisor and a journal without a path', () => {
    expect(() => validateConfig({ ...base, role: 'hypervisor', coordinator: { runnables: ['primary-journal'], primaryJournal: { path: '/tmp/j' } } }, 't')).toThrow(/hypervisor/);
    expect(() => validateConfig({ ...base, coordinator: { runnables: ['primary-journal'] } }, 't')).toThrow(/primaryJournal\.path/);
  });

  it('refuses runnable stop timeouts that do not fit between the lease end and the session end', () => {
    const journal = { runnables: ['primary-journal'], primaryJournal: { path: '/tmp/j' } };
    expect(() => validateConfig({ ...base, coordinator: journal, timeouts: { sessionTimeoutMs: 4_000, runnableStopTimeoutMs: 2_500 } }, 't')).toThrow(
      /runnableStopTimeoutMs 2500 .* does not fit in the 2000 ms/,
    );
    expect(validateConfig({ ...base, coordinator: journal, timeouts: { sessionTimeoutMs: 4_000, runnableStopTimeoutMs: 2_000 } }, 't').timeouts.runnableStopTimeoutMs).toBe(2_000);
  });

  it('refuses unknown flags and a missing --config, with the usage', () => {
    expect(() => loadConfig(['--nope'])).toThrow(/usage: pvcd/);
    expect(() => loadConfig([])).toThrow(/missing --config/);
    expect(loadConfig(['--help'])).toBe('help');
  });
});
