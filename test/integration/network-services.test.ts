// The primary's network services with everything real (issue 6, items 4 and 7): three pvcd
// processes, each node a network namespace with FRR EVPN and the VXLAN network's bridge, VMs
// in namespaces of their own. The VMs get leases from the primary's dnsmasq, the leases reach
// ZooKeeper, a VM resolves another's name through PowerDNS (via the gateway's dnsmasq); then the
// primary's pvcd is killed (SIGKILL) and, later, the role is handed over: each time the new
// primary serves DHCP and DNS and answers on the gateway, and the old one serves nothing.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { requestPrimary } from '../../common/client/handover.ts';
import { addReservation } from '../../common/client/network-dhcp.ts';
import { setClusterNetwork } from '../../common/client/cluster-network.ts';
import { readLeases } from '../../common/client/network-read.ts';
import { isRunning } from '../../daemon/drivers/service-process.ts';
import { readFileSync } from 'node:fs';
import { FLOATING_IP, GATEWAY, ServicesLab } from '../helpers/services-lab.ts';
import { waitFor } from '../helpers/wait.ts';
import { TEST_SESSION_TIMEOUT_MS, closeTrackedStores, connectStore } from '../helpers/zk.ts';

const WAIT_MS = 60_000;
const NODES = ['n1', 'n2', 'n3'];
/** On the underlay, beside the nodes (172.30.0.1-3) and the floating IP (.250). */
const UPSTREAM_RESOLVER = '172.30.0.240';
let s: ServicesLab;
let dir: string;
let killed = '';

/** The PID in a service's pid file, when that process still runs. */
function runningPid(node: string, file: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(dir, 'services', node, file), 'utf8').trim());
    return isRunning(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** What a client sees of the services: a lease from the gateway, and a name looked up there. */
async function servedBy(primary: string, upstreamSet = true): Promise<void> {
  const lease = await waitFor('a lease', () => s.lease('vm1'), WAIT_MS);
  expect(lease.router).toBe(GATEWAY);
  await waitFor('vm2 resolved through the gateway', async () => (await s.resolve('vm1', `vm2.${s.domain}`))?.length === 1, WAIT_MS);
  // Set by the upstream-resolvers test before the primary moves: the new dnsmasq has it too.
  if (upstreamSet) await waitFor('a name outside pvc through the upstream resolver', async () => (await s.resolve('vm1', 'www.outside.example'))?.[0] === '192.0.2.7', WAIT_MS);
  await waitFor('the gateway answering a ping', () => s.ping('vm1', GATEWAY), WAIT_MS);
  expect(await s.addressesOn(primary, 'vmbr100')).toEqual([`${GATEWAY}/24`]);
  expect(await s.addressesOn(primary, 'eth0')).toContain(FLOATING_IP);
}

/** The old primary serves nothing: no dnsmasq, no PowerDNS, no gateway or floating address. */
async function servesNothing(node: string): Promise<void> {
  await waitFor(`${node} without dnsmasq and powerdns`, () => runningPid(node, 'dnsmasq/prod/dnsmasq.pid') === null && runningPid(node, 'pdns/pdns.pid') === null, WAIT_MS);
  await waitFor(`${node} without the gateway and floating addresses`, async () => (await s.addressesOn(node, 'vmbr100')).length === 0 && !(await s.addressesOn(node, 'eth0')).includes(FLOATING_IP), WAIT_MS);
}

beforeAll(async () => {
  dir = path.join(inject('testRunDir'), `network-services-${process.pid}`);
  const store = await connectStore(inject('zkHosts'));
  s = await ServicesLab.create({ tag: 'svc', dir, hosts: inject('zkHosts'), store, sessionTimeoutMs: TEST_SESSION_TIMEOUT_MS, nodes: NODES, vms: { vm1: 'n2', vm2: 'n3' } });
  await s.fleet.waitUntilServing(await s.fleet.waitForPrimary(), WAIT_MS);
}, 180_000);

afterAll(async () => {
  await s?.destroy();
  await closeTrackedStores();
});

describe('network services on the primary', { timeout: 120_000 }, () => {
  it('hands out leases from the primary dnsmasq and writes them back to zookeeper', async () => {
    const lease1 = await waitFor('a lease for vm1', () => s.lease('vm1'), WAIT_MS);
    const lease2 = await waitFor('a lease for vm2', () => s.lease('vm2'), WAIT_MS);
    expect(lease1).toMatchObject({ router: GATEWAY, dns: GATEWAY, domain: s.domain });
    expect(lease1.ip).toMatch(/^10\.100\.0\.1\d\d$/);
    expect(lease2.ip).not.toBe(lease1.ip);
    const target = { store: s.fleet.store, layout: s.layout };
    await waitFor('both leases in zookeeper', async () => {
      const leases = await readLeases(target, 'prod');
      return [lease1.ip, lease2.ip].every((ip) => leases.some((l) => l.ipv4 === ip && l.hostname === (ip === lease1.ip ? 'vm1' : 'vm2')));
    }, WAIT_MS);
  });

  it('lets a VM resolve another VM by name (and address) through powerdns at the gateway', async () => {
    const vm2 = (await readLeases({ store: s.fleet.store, layout: s.layout }, 'prod')).find((l) => l.hostname === 'vm2');
    await waitFor('vm2 by name', async () => (await s.resolve('vm1', `vm2.${s.domain}`))?.[0] === vm2?.ipv4, WAIT_MS);
    const ptrName = `${(vm2?.ipv4 ?? '').split('.').reverse().join('.')}.in-addr.arpa`;
    expect(await s.resolve('vm1', ptrName, 'PTR')).toEqual([`vm2.${s.domain}.`]);
    expect(await s.resolve('vm1', `nosuch.${s.domain}`)).toEqual([]);
    // Names only PowerDNS holds: a reservation nobody leased yet, the cluster zone's floating address.
    await addReservation({ store: s.fleet.store, layout: s.layout }, 'prod', { mac: '52:54:00:00:09:09', ipv4: '10.100.0.50', hostname: 'printer' });
    await waitFor('the reservation by name', async () => (await s.resolve('vm1', `printer.${s.domain}`))?.[0] === '10.100.0.50', WAIT_MS);
    expect(await s.resolve('vm1', `primary.${s.layout.cluster}.pvc.local`)).toEqual([FLOATING_IP.split('/')[0]]);
    await servedBy(await s.fleet.waitForPrimary(), false);
  });

  it("resolves names outside pvc's zones through the cluster's upstream resolvers, none before they are set", async () => {
    // The site's resolver: a dnsmasq on the underlay (port 53), knowing one name.
    await s.lab.exec(s.lab.underlay, 'ip', ['addr', 'add', `${UPSTREAM_RESOLVER}/24`, 'dev', 'ul']);
    s.lab.spawn(s.lab.underlay, 'dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces', `--listen-address=${UPSTREAM_RESOLVER}`, '--port=53', '--pid-file=', '--user=root', '--address=/outside.example/192.0.2.7'], path.join(dir, 'upstream-dns.log'));
    expect(await s.resolve('vm1', 'www.outside.example')).toEqual([]);
    await setClusterNetwork({ store: s.fleet.store, layout: s.layout }, { upstreamResolvers: [UPSTREAM_RESOLVER] });
    await waitFor('www.outside.example through the gateway', async () => (await s.resolve('vm1', 'www.outside.example'))?.[0] === '192.0.2.7', WAIT_MS);
    // pvc's own names still come from PowerDNS.
    expect((await s.resolve('vm1', `vm2.${s.domain}`))?.length).toBe(1);
  });

  it('moves the services when the primary pvcd is killed: the new primary serves, the old one nothing', async () => {
    const old = await s.fleet.waitForPrimary();
    killed = old;
    s.fleet.signal(old, 'SIGKILL');
    const next = await s.fleet.waitForPrimary((node) => node !== old, WAIT_MS);
    await s.fleet.waitUntilServing(next, WAIT_MS);
    await servesNothing(old);
    await servedBy(next);
    // The lease the old primary handed out was seeded into the new dnsmasq: vm1 keeps its address.
    const leases = await readLeases({ store: s.fleet.store, layout: s.layout }, 'prod');
    expect(leases.filter((l) => l.hostname === 'vm1')).toHaveLength(1);
  });

  it('moves the services in a planned handover', async () => {
    // The killed node's pvcd comes back (as a secondary) and is the handover's target.
    s.startPvcd(killed);
    await waitFor('three candidates', async () => (await s.fleet.store.children(s.layout.electionDir())).length === NODES.length, WAIT_MS);
    const from = await s.fleet.waitForPrimary();
    const target = killed;
    await requestPrimary(s.fleet.store, s.layout, target, { waitMs: WAIT_MS });
    await s.fleet.waitUntilServing(target, WAIT_MS);
    await servesNothing(from);
    await servedBy(target);
    expect(s.fleet.overlaps()).toEqual([]);
  });
});
