// pvcd's `network` config section (daemon/network-config.ts): off by default, its defaults, its
// refusals naming the value; and the drivers and status it leads to (daemon/runtime/network-node.ts).
import { describe, expect, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import { validateConfig } from '../../daemon/config.ts';
import { FrrDaemons } from '../../daemon/drivers/frr/daemons.ts';
import { SimLinks } from '../../daemon/drivers/links/sim.ts';
import { IprouteLinks } from '../../daemon/drivers/links/iproute.ts';
import { createNetworkDrivers, networkStatusOf } from '../../daemon/runtime/network-node.ts';

const base = { cluster: 'c1', node: 'n1', role: 'coordinator', zookeeper: { hosts: '127.0.0.1:2181', user: 'pvc', password: 'pw' } };

describe('network config', () => {
  it('leaves networking alone unless asked', () => {
    const config = validateConfig(base, 't');
    expect(config.network).toEqual({ driver: 'none', netns: null, underlayDevice: null, vtepAddress: null, bridgedDevice: null, frr: null, firewall: true });
    expect(createNetworkDrivers(config.network)).toBeNull();
    expect(networkStatusOf(config)).toEqual({});
  });

  it('builds the real drivers for a namespace, with FRR defaults', () => {
    const config = validateConfig({ ...base, network: { driver: 'real', netns: 'node1', underlayDevice: 'eth0', vtepAddress: '10.0.0.1', frr: {} } }, 't');
    expect(config.network.frr).toEqual({ stateDir: '/var/lib/pvc/frr', binDir: '/usr/lib/frr', user: 'frr' });
    const drivers = createNetworkDrivers(config.network);
    expect(drivers?.links).toBeInstanceOf(IprouteLinks);
    expect(drivers?.frr?.driver).toBeInstanceOf(FrrDaemons);
    expect(networkStatusOf(config)).toEqual({ network: { vtepAddress: '10.0.0.1' } });
  });

  it('builds simulated drivers whose devices are the configured ones', async () => {
    const config = validateConfig({ ...base, network: { driver: 'sim', underlayDevice: 'eth0', bridgedDevice: 'eth1', firewall: false } }, 't');
    const drivers = createNetworkDrivers(config.network);
    expect(drivers?.links).toBeInstanceOf(SimLinks);
    expect((await drivers?.links.listLinks())?.map((l) => l.name)).toEqual(['eth0', 'eth1']);
    expect(drivers?.firewall).toBeNull();
    expect(drivers?.frr).toBeNull();
  });

  it.each([
    [{ driver: 'fast' }, 'network.driver'],
    [{ vtepAddress: '10.0.0.300' }, 'network.vtepAddress'],
    [{ vtepAddress: 'fd00:0::1' }, 'network.vtepAddress'],
    [{ underlayDevice: 'a-name-far-too-long' }, 'network.underlayDevice'],
    [{ netns: 'bad/name' }, 'network.netns'],
    [{ frr: { stateDir: 'relative/dir' } }, 'network.frr.stateDir'],
    [{ extra: 1 }, 'network'],
  ])('refuses %j naming %s', (network, field) => {
    let error: unknown;
    try {
      validateConfig({ ...base, network }, 'cfg.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PvcError);
    expect((error as PvcError).message).toContain(field);
  });
});
