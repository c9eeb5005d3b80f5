// The firewall on real nftables: one "node" namespace routes between two managed networks (it
// holds both gateways, as the primary does), its network controller (real links and nft drivers,
// in process, on the shared ZooKeeper) renders the ACLs written through the client library, and
// VMs in their own namespaces check that an ACL blocks what it says and nothing else. A third
// network with an outbound default drop checks the input side: its VM reaches pvc's services on
// the gateway (a real dnsmasq, as the primary runs it) but no other port of the node.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addAcl, removeAcl } from '../../common/client/network-acl.ts';
import { addNetwork } from '../../common/client/network-write.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { DnsmasqDriver } from '../../daemon/drivers/dnsmasq/dnsmasq.ts';
import { renderDnsmasqConfig } from '../../daemon/drivers/dnsmasq/render.ts';
import { dnsmasqInputOf } from '../../daemon/reconcile/dhcp-plan.ts';
import { FIREWALL_TABLE } from '../../daemon/reconcile/firewall-rules.ts';
import { NetworkController } from '../../daemon/runtime/network-controller.ts';
import { lookup, requestLease } from '../helpers/dhcp-client.ts';
import { execIn, ipIn, succeedsIn } from '../helpers/netns.ts';
import { NetnsLab, type LabNode, type LabVm } from '../helpers/netns-lab.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, uniqueClusterName } from '../helpers/zk.ts';

/** A TCP connection attempt gives up after this (a dropped SYN is never answered). */
const CONNECT_TIMEOUT_S = 2;
/** A port of the node itself (its sshd, say): the sealed network's VM may not reach it. */
const NODE_PORT = 2222;
/** The sealed network's gateway, and the node's address on the underlay (an interface of its own). */
const SEALED_GATEWAY = '10.30.0.1';
const NODE_UNDERLAY = '172.30.0.1';
/** A name the sealed network's dnsmasq answers itself (pvc's config forwards all to PowerDNS, not run here). */
const PROBE_NAME = 'gateway.sealed.test';

describe('network firewall on real nftables', () => {
  let lab: NetnsLab;
  let store: ZkStore;
  let layout: ZkLayout;
  let controller: NetworkController;
  let gw: LabNode;
  let a: LabVm;
  let a2: LabVm;
  let b: LabVm;
  let c: LabVm;
  let dnsmasq: DnsmasqDriver;
  const target = () => ({ store, layout });
  /** True when a TCP connection from namespace `netns` to address:port is accepted (busybox nc exits 0). */
  const connects = (netns: string, address: string, port: number) => succeedsIn(netns, 'busybox', ['nc', '-w', String(CONNECT_TIMEOUT_S), address, String(port), '-e', '/bin/true'], 15_000);
  const reaches = (vm: LabVm, port: number) => connects(vm.netns, '10.200.0.11', port);
  const counter = async (comment: string) => (await gw.firewall.readTable('inet', FIREWALL_TABLE))?.rules.find((r) => r.comment === comment)?.packets ?? null;
  /** A rule's counter in one chain (comments such as "default drop" recur in several chains). */
  const counterIn = async (chain: string, comment: string) =>
    (await gw.firewall.readTable('inet', FIREWALL_TABLE))?.rules.find((r) => r.chain === chain && r.comment === comment)?.packets ?? null;

  beforeAll(async () => {
    const dir = path.join(inject('testRunDir'), `network-firewall-${process.pid}`);
    lab = await NetnsLab.create({ tag: 'fw', dir, nodes: [{ name: 'gw', role: 'coordinator' }] });
    gw = lab.node('gw');
    store = await connectStore(inject('zkHosts'));
    layout = new ZkLayout(uniqueClusterName('netfw'));
    await migrateSchema(store, layout);
    controller = new NetworkController({
      store, layout, node: 'gw', role: 'coordinator', facts: gw.facts, links: gw.links, frr: null, firewall: gw.firewall,
      resyncIntervalMs: 5_000, log: pino({ level: 'warn' }),
    });
    await controller.start();
    await addNetwork(target(), { name: 'front', type: 'managed', vni: 100, ipv4: { subnet: '10.100.0.0/24', dhcp: { enabled: false } } });
    await addNetwork(target(), { name: 'back', type: 'managed', vni: 200, ipv4: { subnet: '10.200.0.0/24', dhcp: { enabled: false } }, firewall: { defaultInbound: 'drop', defaultOutbound: 'accept' } });
    await addNetwork(target(), {
      name: 'sealed', type: 'managed', vni: 300, ipv4: { subnet: '10.30.0.0/24', gateway: SEALED_GATEWAY, dhcp: { enabled: true, start: '10.30.0.100', end: '10.30.0.150' } },
      firewall: { defaultInbound: 'accept', defaultOutbound: 'drop' },
    });
    await waitFor('three bridges', () => controller.bridges.front === 'vmbr100' && controller.bridges.back === 'vmbr200' && controller.bridges.sealed === 'vmbr300');
    // The gateways, as the primary's services would put them; and routing between the networks.
    await gw.links.addAddress('vmbr100', '10.100.0.1/24');
    await gw.links.addAddress('vmbr200', '10.200.0.1/24');
    await gw.links.addAddress('vmbr300', `${SEALED_GATEWAY}/24`);
    await lab.exec(gw.netns, 'sysctl', ['-w', 'net.ipv4.ip_forward=1']);
    a = await lab.addVm(gw, 'a', '52:54:00:00:01:01');
    a2 = await lab.addVm(gw, 'a2', '52:54:00:00:01:02');
    b = await lab.addVm(gw, 'b', '52:54:00:00:02:01');
    for (const [vm, bridge, cidr, via] of [[a, 'vmbr100', '10.100.0.11/24', '10.100.0.1'], [a2, 'vmbr100', '10.100.0.12/24', '10.100.0.1'], [b, 'vmbr200', '10.200.0.11/24', '10.200.0.1']] as const) {
      await lab.attachVm(vm, bridge);
      await lab.configureVm(vm, cidr, via);
    }
    mkdirSync(path.join(dir, 'www'), { recursive: true });
    for (const port of [8080, 9090]) lab.spawn(b.netns, 'busybox', ['httpd', '-f', '-p', `10.200.0.11:${port}`, '-h', path.join(dir, 'www')], path.join(dir, `httpd-${port}.log`));
    // The servers answer (asked from the node itself: its own traffic is not forwarded, so not filtered).
    for (const port of [8080, 9090]) {
      await waitFor(`b serving ${port}`, () => succeedsIn(gw.netns, 'busybox', ['nc', '-w', '1', '10.200.0.11', String(port), '-e', '/bin/true']));
    }
    // The sealed network: its VM c (addressed by DHCP in the test), the network's dnsmasq as the
    // primary renders it, plus one name it answers itself; a server on every address of the node.
    c = await lab.addVm(gw, 'c', '52:54:00:00:03:01');
    await lab.attachVm(c, 'vmbr300');
    const sealed = (await store.get(layout.network('sealed')))?.value;
    if (sealed?.type !== 'managed') throw new Error('network sealed was not stored as managed');
    dnsmasq = new DnsmasqDriver({ stateDir: path.join(dir, 'services'), netns: gw.netns });
    dnsmasq.open();
    const settings = { leaseTimeS: 600, pdns: { address: '127.0.0.1', port: 5300 }, servedZones: [], upstreamResolvers: [], logDhcp: false };
    const config = `${renderDnsmasqConfig(dnsmasqInputOf(sealed, settings), dnsmasq.pathsOf('sealed'))}address=/${PROBE_NAME}/${SEALED_GATEWAY}\n`;
    await dnsmasq.start('sealed', config, new Map(), null);
    lab.spawn(gw.netns, 'busybox', ['httpd', '-f', '-p', String(NODE_PORT), '-h', path.join(dir, 'www')], path.join(dir, `httpd-node-${NODE_PORT}.log`));
    await waitFor('the node serving its own port', () => connects(gw.netns, SEALED_GATEWAY, NODE_PORT));
    // A neighbour on the underlay, to show the node's other interfaces keep their reach.
    await ipIn(lab.underlay, ['addr', 'add', '172.30.0.254/24', 'dev', 'ul']);
  });
  afterAll(async () => {
    await dnsmasq?.closeAll();
    await controller?.stop();
    await lab?.destroy();
    await closeTrackedStores();
  });

  it('a default inbound drop blocks new traffic into the network, and lets out-going connections and their replies through', async () => {
    await waitFor('firewall table', async () => (await counter('default drop')) !== null);
    expect(await reaches(a, 8080)).toBe(false);
    expect(await lab.ping(a, '10.200.0.11')).toBe(false);
    expect(await lab.ping(b, '10.100.0.11')).toBe(true);
    expect(await counter('default drop')).toBeGreaterThan(0);
  });

  it('an inbound accept ACL opens exactly its port from exactly its source', async () => {
    await addAcl(target(), 'back', { name: 'web-from-a', direction: 'in', action: 'accept', source: '10.100.0.11', protocol: 'tcp', ports: '8080' });
    await waitFor('acl web-from-a applied', async () => (await counter('acl web-from-a')) !== null);
    expect(await reaches(a, 8080)).toBe(true);
    expect(await reaches(a, 9090)).toBe(false);
    expect(await reaches(a2, 8080)).toBe(false);
    expect(await lab.ping(a, '10.200.0.11')).toBe(false);
    expect(await counter('acl web-from-a')).toBeGreaterThan(0);
  });

  it('an outbound reject ACL on the source network stops what the destination network accepts, until it is removed', async () => {
    await addAcl(target(), 'front', { name: 'no-9-from-a', direction: 'out', action: 'reject', source: '10.100.0.11', destination: '10.200.0.0/24', protocol: 'tcp', ports: '8000-8999' });
    await waitFor('acl no-9-from-a applied', async () => (await counter('acl no-9-from-a')) !== null);
    expect(await reaches(a, 8080)).toBe(false);
    expect(await counter('acl no-9-from-a')).toBeGreaterThan(0);
    await removeAcl(target(), 'front', 'no-9-from-a');
    await waitFor('acl no-9-from-a gone', async () => (await counter('acl no-9-from-a')) === null);
    expect(await reaches(a, 8080)).toBe(true);
  });

  it('traffic bridged within one network is not filtered, even with a default inbound drop', async () => {
    const b2 = await lab.addVm(gw, 'b2', '52:54:00:00:02:02');
    await lab.attachVm(b2, 'vmbr200');
    await lab.configureVm(b2, '10.200.0.12/24', '10.200.0.1');
    expect(await lab.ping(b2, '10.200.0.11')).toBe(true);
    expect(await succeedsIn(b2.netns, 'busybox', ['nc', '-w', String(CONNECT_TIMEOUT_S), '10.200.0.11', '9090', '-e', '/bin/true'])).toBe(true);
  });

  it('applies into its own table only: another table in the node stays as it was', async () => {
    await gw.firewall.apply('table inet keep {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t}\n}\n');
    await removeAcl(target(), 'back', 'web-from-a');
    await waitFor('acl web-from-a gone', async () => (await counter('acl web-from-a')) === null);
    expect(await reaches(a, 8080)).toBe(false);
    expect(await gw.firewall.readTable('inet', 'keep')).not.toBeNull();
  });

  it('an outbound default drop keeps the vms off the node\'s own ports, not off dhcp, dns and ping of their gateway', async () => {
    await waitFor('host chain of sealed', async () => (await counterIn('vmbr300-host', 'pvc dhcpv4')) !== null);
    const lease = await requestLease(c.netns, c.device, 'c');
    expect(lease).toMatchObject({ router: SEALED_GATEWAY, dns: SEALED_GATEWAY });
    expect(await lookup(c.netns, SEALED_GATEWAY, PROBE_NAME)).toEqual([SEALED_GATEWAY]);
    const overTcp = await execIn(c.netns, 'dig', ['+tcp', '+short', '+time=2', '+tries=1', `@${SEALED_GATEWAY}`, PROBE_NAME], 10_000);
    expect(overTcp.stdout.trim()).toBe(SEALED_GATEWAY);
    expect(await lab.ping(c, SEALED_GATEWAY)).toBe(true);

    expect(await connects(c.netns, SEALED_GATEWAY, NODE_PORT)).toBe(false);
    expect(await connects(c.netns, NODE_UNDERLAY, NODE_PORT)).toBe(false);
    expect(await lab.ping(c, NODE_UNDERLAY)).toBe(false);
    for (const rule of ['pvc dhcpv4', 'pvc dns at the gateway', 'pvc ping of the gateway']) {
      expect(await counterIn('vmbr300-host', rule), rule).toBeGreaterThan(0);
    }
    expect(await counterIn('vmbr300-out', 'default drop')).toBeGreaterThan(0);
  });

  it('the input filter touches only the sealed network\'s bridge: other networks and interfaces still reach the node', async () => {
    expect(await connects(a.netns, '10.100.0.1', NODE_PORT)).toBe(true);
    expect(await connects(lab.underlay, NODE_UNDERLAY, NODE_PORT)).toBe(true);
    expect((await gw.firewall.readTable('inet', FIREWALL_TABLE))?.chains.find((ch) => ch.name === 'input')).toEqual({ name: 'input', hook: 'input', policy: 'accept' });
  });

  it('an outbound accept ACL naming the gateway opens that port of the node, and only on that address', async () => {
    await addAcl(target(), 'sealed', { name: 'node-port', direction: 'out', action: 'accept', destination: SEALED_GATEWAY, protocol: 'tcp', ports: String(NODE_PORT) });
    await waitFor('acl node-port applied', async () => (await counterIn('vmbr300-out', 'acl node-port')) !== null);
    expect(await connects(c.netns, SEALED_GATEWAY, NODE_PORT)).toBe(true);
    expect(await connects(c.netns, NODE_UNDERLAY, NODE_PORT)).toBe(false);
    expect(await counterIn('vmbr300-out', 'acl node-port')).toBeGreaterThan(0);
  });
});
