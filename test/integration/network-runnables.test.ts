// The primary's network-service runnables (gateways, dhcp, dns) against real ZooKeeper with the
// simulated drivers: what they do when networks, reservations and leases change, and that stop()
// leaves nothing serving, even with a pass in flight.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addNetwork, modifyNetwork, removeNetwork } from '../../common/client/network-write.ts';
import { addReservation } from '../../common/client/network-dhcp.ts';
import { readLeases } from '../../common/client/network-read.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { DhcpRunnable } from '../../daemon/coordinator/dhcp-runnable.ts';
import { DnsRunnable } from '../../daemon/coordinator/dns-runnable.ts';
import { GatewaysRunnable } from '../../daemon/coordinator/gateways-runnable.ts';
import type { PrimaryContext } from '../../daemon/coordinator/runnables.ts';
import { SimDhcp } from '../../daemon/drivers/dnsmasq/sim.ts';
import { SimGateway } from '../../daemon/drivers/gateway/sim.ts';
import { SimDns } from '../../daemon/drivers/pdns/sim.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, uniqueClusterName } from '../helpers/zk.ts';

const RESYNC_MS = 300;
const WAIT_MS = 10_000;
const draft = { name: 'prod', type: 'managed', vni: 100, ipv4: { subnet: '10.100.0.0/24', dhcp: { start: '10.100.0.100', end: '10.100.0.199' } } };

let store: ZkStore;
let layout: ZkLayout;
let primary = true;
const context: PrimaryContext = { node: 'n1', stillPrimary: () => primary, log: pino({ level: 'silent' }) };

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
  layout = new ZkLayout(uniqueClusterName('netsvc'));
  await migrateSchema(store, layout);
  await addNetwork({ store, layout }, draft);
});
afterAll(closeTrackedStores);

describe('gateways runnable', () => {
  beforeAll(async () => {
    await store.create(layout.networkLease('prod', '52:54:00:00:07:07'), { mac: '52:54:00:00:07:07', ipv4: '10.100.0.77', hostname: null, expiresAtS: 0 });
  });
  afterAll(async () => {
    await store.remove(layout.networkLease('prod', '52:54:00:00:07:07'));
  });

  it('puts the gateway on the bridge once it exists, announces it, renews it, follows a change and removes it on stop', async () => {
    const gateway = new SimGateway(['eth0']);
    const runnable = new GatewaysRunnable({ store, layout, resyncIntervalMs: RESYNC_MS, gateway, addressLifetimeS: 1, renewIntervalMs: 250, floatingIpDevice: 'eth0', stopWaitMs: 100 });
    const addressesOf = async (name: string) => (await gateway.listAddresses()).find((l) => l.name === name)?.addresses ?? [];
    await runnable.start(context);
    gateway.addDevice('vmbr100'); // the node's link reconciler makes it, maybe later
    await waitFor('the gateway on vmbr100', async () => (await addressesOf('vmbr100')).includes('10.100.0.1/24'), WAIT_MS);
    await waitFor('the gratuitous arp', () => gateway.announced.some((s) => s.device === 'vmbr100' && s.ipv4 === '10.100.0.1'), WAIT_MS);
    await waitFor('the clients asked', () => gateway.asked.length > 0, WAIT_MS);
    expect(gateway.asked[0]).toEqual({ device: 'vmbr100', sourceIpv4: '10.100.0.1', targetIpv4: '10.100.0.77' });
    expect(gateway.forgotten[0]).toBe('vmbr100');
    // Renewed while primary: still there after several lifetimes.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await addressesOf('vmbr100')).toEqual(['10.100.0.1/24']);
    await modifyNetwork({ store, layout }, 'prod', { ipv4: { gateway: '10.100.0.254' } });
    await waitFor('the new gateway alone', async () => JSON.stringify(await addressesOf('vmbr100')) === JSON.stringify(['10.100.0.254/24']), WAIT_MS);
    await runnable.stop();
    expect(await addressesOf('vmbr100')).toEqual([]);
    expect(await addressesOf('eth0')).toEqual([]);
    await modifyNetwork({ store, layout }, 'prod', { ipv4: { gateway: '10.100.0.1' } });
  });

  it('lets the addresses of a primary that lost its lease run out', async () => {
    const gateway = new SimGateway(['vmbr100']);
    const runnable = new GatewaysRunnable({ store, layout, resyncIntervalMs: RESYNC_MS, gateway, addressLifetimeS: 1, renewIntervalMs: 250, floatingIpDevice: null, stopWaitMs: 100 });
    await runnable.start(context);
    await waitFor('the gateway', async () => (await gateway.listAddresses())[0]?.addresses.length === 1, WAIT_MS);
    primary = false; // frozen, cut off: nothing runs stop(), and nothing renews
    try {
      await waitFor('the address to lapse', async () => (await gateway.listAddresses())[0]?.addresses.length === 0, WAIT_MS);
    } finally {
      primary = true;
      await runnable.stop();
    }
  });
});

describe('dhcp runnable', () => {
  const driver = new SimDhcp();
  let runnable: DhcpRunnable;
  const instance = () => driver.instancesByNetwork.get('prod');
  beforeAll(() => {
    runnable = new DhcpRunnable({ store, layout, resyncIntervalMs: RESYNC_MS, driver, settings: { leaseTimeS: 600, logDhcp: false, pdns: { address: '127.0.0.1', port: 5300 } }, finalDrainMs: 200 });
  });

  it('starts dnsmasq for the network, seeded from zookeeper, and follows reservations without a restart', async () => {
    await store.create(layout.networkLease('prod', '52:54:00:00:00:77'), { mac: '52:54:00:00:00:77', ipv4: '10.100.0.177', hostname: 'old', expiresAtS: 0 });
    await runnable.start(context);
    await waitFor('dnsmasq running', () => instance()?.running, WAIT_MS);
    expect(instance()?.configText).toMatch(/^dhcp-range=10\.100\.0\.100,10\.100\.0\.199,255\.255\.255\.0,600$/m);
    expect(instance()?.seed?.map((l) => l.mac)).toEqual(['52:54:00:00:00:77']);
    await addReservation({ store, layout }, 'prod', { mac: '52:54:00:00:01:01', ipv4: '10.100.0.10', hostname: 'web1' });
    await waitFor('the reservation file', () => instance()?.reservations.get('525400000101') === '52:54:00:00:01:01,10.100.0.10\n', WAIT_MS);
    expect(instance()?.starts).toBe(1);
  });

  it('writes lease events back to zookeeper in order, and drops what it cannot record', async () => {
    driver.emitLeaseEvent('prod', 'add 52:54:00:00:02:01 10.100.0.101 1800000000 vm2\n');
    driver.emitLeaseEvent('prod', 'garbage\n');
    driver.emitLeaseEvent('prod', 'old 52:54:00:00:02:01 10.100.0.101 1800000600 vm2\n');
    await waitFor('the renewed lease', async () => (await readLeases({ store, layout }, 'prod')).find((l) => l.mac === '52:54:00:00:02:01')?.expiresAtS === 1_800_000_600, WAIT_MS);
    driver.emitLeaseEvent('prod', 'del 52:54:00:00:00:77 10.100.0.177 0 old\n');
    await waitFor('the released lease gone', async () => !(await readLeases({ store, layout }, 'prod')).some((l) => l.mac === '52:54:00:00:00:77'), WAIT_MS);
    await waitFor('an empty spool', async () => (await driver.pendingEvents()).length === 0, WAIT_MS);
  });

  it('restarts dnsmasq when its config changes (keeping its own lease file) and after it died', async () => {
    await modifyNetwork({ store, layout }, 'prod', { domain: 'production.c1.pvc.local' });
    await waitFor('the restart', () => instance()?.configText.includes('option:domain-name,production.c1.pvc.local'), WAIT_MS);
    expect(instance()?.seed).toBeNull();
    driver.crash('prod');
    await waitFor('a start after the crash', () => instance()?.running === true, WAIT_MS);
  });

  it('stops every dnsmasq on stop, and a pass after it starts none', async () => {
    await runnable.stop();
    expect(driver.instancesByNetwork.size).toBe(0);
    await modifyNetwork({ store, layout }, 'prod', { domain: 'prod.c1.pvc.local' });
    await new Promise((resolve) => setTimeout(resolve, RESYNC_MS * 2));
    expect(driver.instancesByNetwork.size).toBe(0);
  });
});

describe('dns runnable', () => {
  it('fills powerdns from zookeeper, follows leases, stops the server on stop', async () => {
    const driver = new SimDns();
    const runnable = new DnsRunnable({ store, layout, resyncIntervalMs: RESYNC_MS, driver, recordTtlS: 30, stopWaitMs: 100 });
    await runnable.start(context);
    await waitFor('the reservation in dns', () => driver.lookup('web1.prod.c1.pvc.local.', 'A')?.[0] === '10.100.0.10', WAIT_MS);
    expect(driver.running).toBe(true);
    expect(driver.lookup('10.0.100.10.in-addr.arpa.', 'PTR')).toEqual(['web1.prod.c1.pvc.local.']);
    await store.create(layout.networkLease('prod', '52:54:00:00:03:01'), { mac: '52:54:00:00:03:01', ipv4: '10.100.0.131', hostname: 'vm3', expiresAtS: 0 });
    await waitFor('the lease in dns', () => driver.lookup('vm3.prod.c1.pvc.local.', 'A')?.[0] === '10.100.0.131', WAIT_MS);
    // A node that reports its underlay address gets a name in the cluster zone (next pass).
    await store.create(layout.node('hv7'), { name: 'hv7', role: 'hypervisor' });
    await store.create(layout.nodeStatus('hv7'), {
      daemonState: 'run', coordinatorState: 'client', pvcdVersion: '0.1.0', pid: 4242, keepaliveSeq: 1, updatedAtMs: 0,
      host: { cores: 2, loadAvg: [0, 0, 0], memoryTotalMiB: 1, memoryUsedMiB: 0, memoryFreeMiB: 1, uptimeS: 1 },
      hypervisor: null, network: { vtepAddress: '172.16.0.7' },
    });
    await waitFor('the node in the cluster zone', () => driver.lookup(`hv7.${layout.cluster}.pvc.local.`, 'A')?.[0] === '172.16.0.7', WAIT_MS);
    driver.crash();
    await waitFor('powerdns started again', () => driver.running && driver.starts === 2, WAIT_MS);
    await runnable.stop();
    expect(driver.running).toBe(false);
  });

  it('a primary that lost its lease does nothing more, even with the runnable still started', async () => {
    const driver = new SimDns();
    const runnable = new DnsRunnable({ store, layout, resyncIntervalMs: RESYNC_MS, driver, recordTtlS: 30, stopWaitMs: 100 });
    primary = false;
    try {
      await runnable.start(context);
      await new Promise((resolve) => setTimeout(resolve, RESYNC_MS * 2));
      expect(driver.starts).toBe(0);
    } finally {
      primary = true;
      await runnable.stop();
    }
    await removeNetwork({ store, layout }, 'prod');
  });
});
