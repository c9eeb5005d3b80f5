// The `services` section of pvcd's config (daemon/services-config.ts) and the runnables it
// feeds: defaults, refusals naming the wrong value, and the builders' timing derived from it.
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../daemon/config.ts';
import { buildNetworkServiceRunnable } from '../../daemon/coordinator/network-services.ts';

const base = { cluster: 'c1', node: 'n1', role: 'coordinator', zookeeper: { hosts: '127.0.0.1:2181', user: 'pvc', password: 'pw' } };
const withRunnables = { ...base, coordinator: { runnables: ['gateways', 'dns', 'dhcp'] } };

describe('services config', () => {
  it('fills in the documented defaults', () => {
    const config = validateConfig(withRunnables, 'test');
    expect(config.coordinator.runnables).toEqual(['gateways', 'dns', 'dhcp']);
    expect(config.services).toEqual({
      stateDir: '/var/lib/pvc/services',
      dhcp: { leaseTimeS: 3_600, logDhcp: false },
      dns: { dnsAddresses: ['127.0.0.1'], dnsPort: 5300, apiAddress: '127.0.0.1', apiPort: 8081, recordTtlS: 30, apiTimeoutMs: 3_000 },
    });
  });

  it('refuses bad values, naming them', () => {
    const bad = (services: unknown) => () => validateConfig({ ...withRunnables, services }, 'test');
    expect(bad({ dhcp: { leaseTimeS: 60 } })).toThrow(/services\.dhcp\.leaseTimeS: .*\(got 60\)/);
    expect(bad({ stateDir: 'relative/dir' })).toThrow(/services\.stateDir: must be an absolute path/);
    expect(bad({ dns: { dnsAddresses: ['localhost'] } })).toThrow(/services\.dns\.dnsAddresses\.0: must be an ip address/);
    expect(bad({ floatingIpDevice: 'much-too-long-device' })).toThrow(/services\.floatingIpDevice/);
    expect(bad({ netns: 'bad name' })).toThrow(/services\.netns: must be a network namespace name/);
    expect(bad({ dns: { backend: { launch: 'gmysql\napi=no' } } })).toThrow(/services\.dns\.backend\.launch/);
  });

  it('builds each runnable with its name', () => {
    const config = validateConfig(withRunnables, 'test');
    const deps = { store: null as never, layout: null as never, resyncIntervalMs: 1_000 };
    expect(['gateways', 'dns', 'dhcp'].map((name) => buildNetworkServiceRunnable(name as 'dns', config, deps).name)).toEqual(['gateways', 'dns', 'dhcp']);
  });
});
