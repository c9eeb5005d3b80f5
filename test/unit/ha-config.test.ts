// The HA sections of the pvcd config: defaults, the bmc (password or file, never echoed), and
// when a node fences itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../daemon/config.ts';
import { bmcFromConfig, selfFenceBoundMs } from '../../daemon/runtime/ha-node.ts';

/** A bmc needs the daemons' own identity (its password is readable by it alone). */
const base = { cluster: 'c1', node: 'n1', role: 'hypervisor', zookeeper: { hosts: '127.0.0.1:2181', user: 'pvc', password: 'x', daemonUser: 'pvcd', daemonPassword: 'd' } };
const hypervisor = { driver: 'sim', uri: 'http://127.0.0.1:1', consoleLogDir: '/tmp' };

describe('ha config', () => {
  it('has documented defaults', () => {
    const config = validateConfig(base, 'test');
    expect(config.ha).toEqual({ keepaliveStaleMs: 5_000, fenceFailurePolicy: 'leave-down', autoReturn: false, checkIntervalMs: 250, ipmiTimeoutMs: 5_000, powerOffConfirmMs: 5_000, blocklistExpireS: 86_400, selfFence: { mode: 'auto', afterMs: 4_000 } });
    expect(config.bmc).toBeUndefined();
  });

  it('refuses a bmc with both or neither password, without echoing it', () => {
    expect(() => validateConfig({ ...base, bmc: { host: '10.0.0.5', username: 'fence' } }, 'test')).toThrow(/set exactly one of password and passwordFile/);
    const both = () => validateConfig({ ...base, bmc: { host: '10.0.0.5', username: 'fence', password: 'hunter22', passwordFile: '/x' } }, 'test');
    expect(both).toThrow(/bmc/);
    try {
      both();
    } catch (error) {
      expect(String(error)).not.toContain('hunter22');
    }
    expect(() => validateConfig({ ...base, ha: { fenceFailurePolicy: 'yolo' } }, 'test')).toThrow(/ha.fenceFailurePolicy/);
  });

  it('reads the bmc password from its file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pvc-bmc-'));
    writeFileSync(path.join(dir, 'pw'), 's3cret\n');
    const config = validateConfig({ ...base, bmc: { host: '10.0.0.5', username: 'fence', passwordFile: path.join(dir, 'pw') } }, 'test');
    expect(bmcFromConfig(config)).toEqual({ host: '10.0.0.5', port: 623, username: 'fence', password: 's3cret' });
  });

  it('self-fences by default only a node with VMs and without a bmc', () => {
    expect(selfFenceBoundMs(validateConfig({ ...base, hypervisor }, 'test'))).toBe(4_000);
    expect(selfFenceBoundMs(validateConfig({ ...base, hypervisor, bmc: { host: 'bmc1', username: 'u', password: 'p' } }, 'test'))).toBeNull();
    expect(selfFenceBoundMs(validateConfig({ ...base, hypervisor, bmc: { host: 'bmc1', username: 'u', password: 'p' }, ha: { selfFence: { mode: 'on', afterMs: 2_000 } } }, 'test'))).toBe(2_000);
    expect(selfFenceBoundMs(validateConfig({ ...base, hypervisor, ha: { selfFence: { mode: 'off' } } }, 'test'))).toBeNull();
    expect(selfFenceBoundMs(validateConfig(base, 'test'))).toBeNull();
  });

  it('refuses a self-fence bound that two keepalives do not fit in', () => {
    expect(() => validateConfig({ ...base, hypervisor, timeouts: { keepaliveIntervalMs: 1_000 }, ha: { selfFence: { afterMs: 1_500 } } }, 'test')).toThrow(/ha.selfFence.afterMs 1500 must be at least twice timeouts.keepaliveIntervalMs \(1000\)/);
    expect(() => validateConfig({ ...base, hypervisor, timeouts: { keepaliveIntervalMs: 1_000 }, ha: { selfFence: { mode: 'off', afterMs: 1_500 } } }, 'test')).not.toThrow();
  });
});
