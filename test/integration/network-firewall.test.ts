// The firewall on real nftables: one "node" namespace routes between two managed networks (it
// holds both gateways, as the primary does), its network controller (real links and nft drivers,
// in process, on the shared ZooKeeper) renders the ACLs written through the client library, and
// VMs in their own namespaces check that an ACL blocks what it says and nothing else.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addAcl, removeAcl } from '../../common/client/network-acl.ts';
import { addNetwork } from '../../common/client/network-write.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { FIREWALL_TABLE } from '../../daemon/reconcile/firewall-rules.ts';
import { NetworkController } from '../../daemon/runtime/network-controller.ts';
import { succeedsIn } from '../helpers/netns.ts';
import { NetnsLab, type LabNode, type LabVm } from '../helpers/netns-lab.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, uniqueClusterName } from '../helpers/zk.ts';

/** A TCP connection attempt gives up after this (a dropped SYN is never answered). */
const CONNECT_TIMEOUT_S = 2;

describe('network firewall on real nftables', () => {
  let lab: NetnsLab;
  let store: ZkStore;
  let layout: ZkLayout;
  let controller: NetworkController;
  let gw: LabNode;
  let a: LabVm;
  let a2: LabVm;
  let b: LabVm;
  const target = () => ({ store, layout });
  /** True when a TCP connection from `vm` to b's port is accepted (busybox nc exits 0). */
  const reaches = (vm: LabVm, port: number) => succeedsIn(vm.netns, 'busybox', ['nc', '-w', String(CONNECT_TIMEOUT_S), '10.200.0.11', String(port), '-e', '/bin/true'], 15_000);
  const counter = async (comment: string) => (await gw.firewall.readTable('inet', FIREWALL_TABLE))?.rules.find((r) => r.comment === comment)?.packets ?? null;

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
    await waitFor('both bridges', () => controller.bridges.front === 'vmbr100' && controller.bridges.back === 'vmbr200');
    // The gateways, as the primary's services would put them; and routing between the networks.
    await gw.links.addAddress('vmbr100', '10.100.0.1/24');
    await gw.links.addAddress('vmbr200', '10.200.0.1/24');
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
  });
  afterAll(async () => {
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
});
