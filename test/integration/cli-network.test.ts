// `pvc network ...` and `pvc cluster network ...` end to end against the real ZooKeeper ensemble:
// the CLI runs in-process (main(), its terminal recorded) on a cluster tree made by
// migrateSchema, no pvcd needed (networks are desired state only). Every command is run, and
// every refusal is checked to name the wrong value, exit 1 and leave the tree exactly as it was.
// Races between two clients go through the client library, many at once. One command also
// runs through bin/pvc.js, the real launcher.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { main } from '../../cli/main.ts';
import { addReservation } from '../../common/client/network-dhcp.ts';
import { addNetwork, modifyNetwork } from '../../common/client/network-write.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout, type ClusterNetwork, type NetworkSpec } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import { useCliSandbox } from '../helpers/cli-sandbox.ts';
import { connectRaw, type RawZk } from '../helpers/raw-zk.ts';
import { TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';
import { closeTrackedStores, connectStore, testAuth, uniqueClusterName } from '../helpers/zk.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** A backstop for a hung launcher run. */
const LAUNCHER_TIMEOUT_MS = 90_000;
/** Clients racing in the race tests. */
const RACERS = 6;

let hosts: string;
let store: ZkStore;
let raw: RawZk;
let layout: ZkLayout;
let connectionsYaml: string;
const sandbox = useCliSandbox('pvc-cli-network-');

async function pvc(...args: string[]): Promise<number> {
  fs.writeFileSync(path.join(sandbox.dir, 'connections.yaml'), connectionsYaml, { mode: 0o600 });
  sandbox.out = '';
  sandbox.err = '';
  return main(args, {});
}

async function pvcJson<T>(...args: string[]): Promise<T> {
  const code = await pvc(...args, '--format', 'json');
  expect(sandbox.err).toBe('');
  expect(code).toBe(0);
  return JSON.parse(sandbox.out) as T;
}

/** Every znode under `root` with its data: what "changes nothing" compares. */
async function snapshot(root = layout.root): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (p: string): Promise<void> => {
    out[p] = (await raw.getData(p))?.toString('utf8') ?? '';
    for (const child of (await raw.getChildren(p)).sort()) await walk(`${p}/${child}`);
  };
  await walk(root);
  return out;
}

/** Runs a command that must be refused: exit 1, the message on stderr, nothing written. */
async function refused(message: string | RegExp, ...args: string[]): Promise<void> {
  const before = await snapshot();
  const code = await pvc(...args);
  expect(sandbox.out).toBe('');
  if (typeof message === 'string') expect(sandbox.err).toBe(`pvc: ${message}\n`);
  else expect(sandbox.err).toMatch(message);
  expect(code).toBe(1);
  expect(await snapshot()).toEqual(before);
}

const PROD_ADD = ['network', 'add', 'prod', '--vni', '100', '--ipv4', '10.100.0.0/24', '--dhcp4-start', '10.100.0.100', '--dhcp4-end', '10.100.0.199', '--description', 'production'];

beforeAll(async () => {
  hosts = inject('zkHosts');
  store = await connectStore(hosts, { sessionTimeoutMs: 20_000 });
  layout = new ZkLayout(uniqueClusterName('clinet'));
  await migrateSchema(store, layout);
  raw = await connectRaw(hosts, testAuth);
  const [closedPort] = await findFreePorts(1);
  connectionsYaml = stringify({
    default: 'test',
    connections: [
      { name: 'test', hosts, cluster: layout.cluster, user: testAuth.user, password: testAuth.password },
      { name: 'dead', hosts: `127.0.0.1:${closedPort}`, cluster: layout.cluster, user: testAuth.user, password: testAuth.password },
    ],
  });
});

afterAll(async () => {
  raw?.close();
  await closeTrackedStores();
});

describe('pvc network', () => {
  it('adds a managed and a bridged network, lists and shows them', async () => {
    expect(await pvc(...PROD_ADD)).toBe(0);
    expect(sandbox.out).toBe('added managed network prod (vni 100, bridge vmbr100)\n');
    const stored = await store.get(layout.network('prod'));
    expect(stored?.value).toEqual({
      name: 'prod',
      type: 'managed',
      vni: 100,
      description: 'production',
      domain: `prod.${layout.cluster}.pvc.local`,
      mtu: null,
      ipv4: { subnet: '10.100.0.0/24', gateway: '10.100.0.1', dhcp: { enabled: true, start: '10.100.0.100', end: '10.100.0.199' } },
      ipv6: null,
      nameServers: [],
      firewall: { defaultInbound: 'accept', defaultOutbound: 'accept' },
    });
    for (const dir of layout.networkDirectories('prod')) expect(await store.stat(dir), dir.path).not.toBeNull();

    const uplink = await pvcJson<{ name: string; changed: boolean; spec: NetworkSpec }>('network', 'add', 'uplink', '--type', 'bridged', '--vlan', '200', '--device', 'eno2');
    expect(uplink).toEqual({ name: 'uplink', changed: true, spec: { name: 'uplink', type: 'bridged', vlan: 200, device: 'eno2', mtu: null, description: '' } });

    const list = await pvcJson<Array<Record<string, unknown>>>('network', 'list');
    expect(list.map((n) => [n.name, n.type, n.id, n.bridge])).toEqual([
      ['prod', 'managed', 100, 'vmbr100'],
      ['uplink', 'bridged', 200, 'vmbr200'],
    ]);
    expect((await pvcJson<Array<{ name: string }>>('network', 'list', '--type', 'bridged')).map((n) => n.name)).toEqual(['uplink']);
    expect(await pvc('network', 'list')).toBe(0);
    expect(sandbox.out).toMatch(/^NAME\s+TYPE\s+ID\s+BRIDGE\s+IPV4\s+GATEWAY\s+DHCP\s+IPV6\s+DOMAIN\s+DESCRIPTION\n/);
    expect(sandbox.out).toMatch(/^prod\s+managed\s+100\s+vmbr100\s+10\.100\.0\.0\/24\s+10\.100\.0\.1\s+yes\s+-\s+prod\.\S+\s+production$/m);
    expect(sandbox.out).toMatch(/^uplink\s+bridged\s+200\s+vmbr200\s+-\s+-\s+-\s+-\s+device eno2\s+-$/m);

    const info = await pvcJson<{ bridge: string; memberInterface: string; reservations: number; vms: string[] }>('network', 'info', 'prod');
    expect(info).toMatchObject({ bridge: 'vmbr100', memberInterface: 'vxlan100', reservations: 0, leases: 0, acls: 0, vms: [] });
    expect(await pvc('network', 'info', 'uplink')).toBe(0);
    expect(sandbox.out).toMatch(/^bridge\s+vmbr200 \(with vlan200\)$/m);
    expect(await pvc('network', 'info', 'prod', '--format', 'yaml')).toBe(0);
    expect(sandbox.out).toContain('memberInterface: vxlan100');
  });

  it('refuses bad networks naming the value, and writes nothing', async () => {
    const v4 = (...extra: string[]) => ['network', 'add', 'x', '--vni', '300', ...extra];
    await refused('network x: ipv4 subnet 10.100.0.128/25 overlaps subnet 10.100.0.0/24 of network prod', ...v4('--ipv4', '10.100.0.128/25'));
    await refused('network x: ipv4 subnet 10.0.0.0/8 overlaps subnet 10.100.0.0/24 of network prod', ...v4('--ipv4', '10.0.0.0/8'));
    await refused('invalid network "x": ipv4.gateway: gateway 10.1.0.1 is outside subnet 10.101.0.0/24', ...v4('--ipv4', '10.101.0.0/24', '--gateway4', '10.1.0.1'));
    await refused('invalid network "x": ipv4.gateway: gateway 10.101.0.255 is the broadcast address of subnet 10.101.0.0/24', ...v4('--ipv4', '10.101.0.0/24', '--gateway4', '10.101.0.255'));
    await refused(
      'invalid network "x": ipv4.dhcp: dhcp range start 10.102.0.10 is outside the usable addresses of subnet 10.101.0.0/24',
      ...v4('--ipv4', '10.101.0.0/24', '--dhcp4-start', '10.102.0.10', '--dhcp4-end', '10.101.0.20'),
    );
    await refused('invalid network "x": ipv4.dhcp: dhcp range 10.101.0.1-10.101.0.20 contains the gateway 10.101.0.1', ...v4('--ipv4', '10.101.0.0/24', '--dhcp4-start', '10.101.0.1', '--dhcp4-end', '10.101.0.20'));
    await refused('invalid network "x": ipv4.subnet: 10.101.0.1/24 has host bits set; the subnet is 10.101.0.0/24', ...v4('--ipv4', '10.101.0.1/24'));
    await refused('network x: vni 100 is already used by network prod', 'network', 'add', 'x', '--vni', '100', '--ipv4', '10.101.0.0/24');
    await refused('network x: bridge name vmbr200 is already used by network uplink (its vlan 200); vni 200 cannot be used', 'network', 'add', 'x', '--vni', '200', '--ipv4', '10.101.0.0/24');
    await refused('network x: bridge name vmbr100 is already used by network prod (its vni 100); vlan 100 cannot be used', 'network', 'add', 'x', '--type', 'bridged', '--vlan', '100');
    await refused('network x: vlan 200 is already used by network uplink', 'network', 'add', 'x', '--type', 'bridged', '--vlan', '200', '--device', 'eno3');
    await refused('network prod already exists in cluster ' + layout.cluster, 'network', 'add', 'prod', '--vni', '301', '--ipv4', '10.201.0.0/24');
    await refused('invalid --vni "16777216": use a whole number from 1 to 16777215', 'network', 'add', 'x', '--vni', '16777216');
    await refused('invalid network "x": ipv4: a managed network needs an ipv4 or an ipv6 subnet (or both)', 'network', 'add', 'x', '--vni', '5');
    await refused('invalid network "x": vni does not apply to a bridged network', 'network', 'add', 'x', '--type', 'bridged', '--vlan', '5', '--vni', '5');
    await refused(/^pvc: invalid network name "Bad_Name": use 1-63 lowercase/, 'network', 'add', 'Bad_Name', '--vni', '5');
    await refused(/^pvc: invalid network "x": mtu: too small/, ...v4('--ipv4', '10.101.0.0/24', '--mtu', '500'));
    await refused(/^pvc: invalid network "x": firewall.defaultInbound: .*"allow"/, ...v4('--ipv4', '10.101.0.0/24', '--firewall-in', 'allow'));
    await refused(/^pvc: invalid network "x": nameServers.0: must be an ipv4 or canonical ipv6 address/, ...v4('--ipv4', '10.101.0.0/24', '--name-server', 'dns.example'));
    await refused('invalid network "x": ipv6.dhcp: dhcp on ipv6 needs a /64 subnet, not fd00:1::/80', ...v4('--ipv6', 'fd00:1::/80', '--dhcp6'));
  });

  it('modifies a network, refusing changes that conflict or break it', async () => {
    const changed = await pvcJson<{ changed: boolean; spec: NetworkSpec }>('network', 'modify', 'prod', '--ipv6', 'FD00:100:0::/64', '--dhcp6', '--firewall-in', 'drop', '--mtu', '1450');
    expect(changed.changed).toBe(true);
    expect(changed.spec).toMatchObject({ mtu: 1450, ipv6: { subnet: 'fd00:100::/64', gateway: 'fd00:100::1', dhcp: { enabled: true } }, firewall: { defaultInbound: 'drop', defaultOutbound: 'accept' } });
    expect((await store.get(layout.network('prod')))?.value).toEqual(changed.spec);
    expect(await pvc('network', 'modify', 'prod', '--mtu', '1450')).toBe(0);
    expect(sandbox.out).toBe('network prod unchanged\n');
    expect(await pvc('network', 'modify', 'uplink', '--description', 'to the routers')).toBe(0);
    expect(sandbox.out).toBe('modified bridged network uplink (vlan 200, bridge vmbr200)\n');

    await refused('network uplink: bridge name vmbr100 is already used by network prod (its vni 100); vlan 100 cannot be used', 'network', 'modify', 'uplink', '--vlan', '100');
    await refused('invalid network prod: ipv4.gateway: gateway 10.100.0.1 is outside subnet 10.200.0.0/24', 'network', 'modify', 'prod', '--ipv4', '10.200.0.0/24');
    await refused('invalid network prod: ipv4.dhcp: dhcp range 10.100.0.100-10.100.0.199 contains the gateway 10.100.0.150', 'network', 'modify', 'prod', '--gateway4', '10.100.0.150');
    await refused('invalid network prod: domain does not apply to a bridged network'.replace('prod', 'uplink'), 'network', 'modify', 'uplink', '--domain', 'a.b');
    await refused('network ghost not found in cluster ' + layout.cluster, 'network', 'modify', 'ghost', '--description', 'x');
    await refused('nothing to change: give at least one option (see pvc network modify --help)', 'network', 'modify', 'prod');
    expect(await pvc('network', 'modify', 'prod', '--remove-ipv6')).toBe(0);
    expect((await store.get(layout.network('prod')))?.value).toMatchObject({ ipv6: null });
  });

  it('manages dhcp reservations and lists them with the leases', async () => {
    const added = await pvcJson<Record<string, unknown>>('network', 'dhcp', 'add', 'prod', '52:54:00:AA:00:01', '10.100.0.10', '--hostname', 'web1');
    expect(added).toEqual({ mac: '52:54:00:aa:00:01', ipv4: '10.100.0.10', hostname: 'web1' });
    expect((await store.get(layout.networkReservation('prod', '52:54:00:aa:00:01')))?.value).toEqual(added);
    expect(await pvc('network', 'dhcp', 'add', 'prod', '52-54-00-aa-00-02', '10.100.0.11')).toBe(0);
    expect(sandbox.out).toBe('reserved 10.100.0.11 for 52:54:00:aa:00:02 on network prod\n');

    await refused('invalid mac "52:54:00:aa:00": must be a unicast mac address such as 52:54:00:12:34:56', 'network', 'dhcp', 'add', 'prod', '52:54:00:aa:00', '10.100.0.12');
    await refused('invalid mac "01:00:5e:00:00:01": must be a unicast mac address such as 52:54:00:12:34:56', 'network', 'dhcp', 'add', 'prod', '01:00:5e:00:00:01', '10.100.0.12');
    await refused('ip 10.100.1.12 is outside subnet 10.100.0.0/24', 'network', 'dhcp', 'add', 'prod', '52:54:00:aa:00:03', '10.100.1.12');
    await refused('ip 10.100.0.1 is the gateway of subnet 10.100.0.0/24', 'network', 'dhcp', 'add', 'prod', '52:54:00:aa:00:03', '10.100.0.1');
    await refused('ip 10.100.0.10 is already reserved for mac 52:54:00:aa:00:01 on network prod', 'network', 'dhcp', 'add', 'prod', '52:54:00:aa:00:03', '10.100.0.10');
    await refused('mac 52:54:00:aa:00:01 already has a reservation on network prod (10.100.0.10); remove it first', 'network', 'dhcp', 'add', 'prod', '52:54:00:aa:00:01', '10.100.0.13');
    await refused('hostname web1 is already reserved for mac 52:54:00:aa:00:01 on network prod', 'network', 'dhcp', 'add', 'prod', '52:54:00:aa:00:03', '10.100.0.13', '--hostname', 'web1');
    await refused(/^pvc: invalid reservation for mac 52:54:00:aa:00:03: ipv4: must be an ipv4 address/, 'network', 'dhcp', 'add', 'prod', '52:54:00:aa:00:03', '10.100.0.300');
    await refused('network uplink is bridged: dhcp reservations need a managed network', 'network', 'dhcp', 'add', 'uplink', '52:54:00:aa:00:03', '10.100.0.13');
    await refused('network ghost not found in cluster ' + layout.cluster, 'network', 'dhcp', 'add', 'ghost', '52:54:00:aa:00:03', '10.100.0.13');
    // A subnet change that would strand a reservation is refused.
    await refused(
      'network prod: the reservation of mac 52:54:00:aa:00:01 no longer fits: ip 10.100.0.10 is outside subnet 10.100.0.128/25; remove it first (pvc network dhcp remove prod 52:54:00:aa:00:01)',
      'network', 'modify', 'prod', '--ipv4', '10.100.0.128/25', '--gateway4', '10.100.0.129', '--dhcp4-start', '10.100.0.150', '--dhcp4-end', '10.100.0.160',
    );

    // What the primary writes back.
    await store.create(layout.networkLease('prod', '52:54:00:aa:00:09'), { mac: '52:54:00:aa:00:09', ipv4: '10.100.0.150', hostname: 'laptop', expiresAtS: 1_900_000_000 });
    await store.create(layout.networkLease('prod', '52:54:00:aa:00:01'), { mac: '52:54:00:aa:00:01', ipv4: '10.100.0.10', hostname: 'web1', expiresAtS: 0 });
    const entries = await pvcJson<Array<Record<string, unknown>>>('network', 'dhcp', 'list', 'prod');
    expect(entries).toEqual([
      { kind: 'reservation', mac: '52:54:00:aa:00:01', ipv4: '10.100.0.10', hostname: 'web1', expiresAtS: null },
      { kind: 'lease', mac: '52:54:00:aa:00:01', ipv4: '10.100.0.10', hostname: 'web1', expiresAtS: 0 },
      { kind: 'reservation', mac: '52:54:00:aa:00:02', ipv4: '10.100.0.11', hostname: null, expiresAtS: null },
      { kind: 'lease', mac: '52:54:00:aa:00:09', ipv4: '10.100.0.150', hostname: 'laptop', expiresAtS: 1_900_000_000 },
    ]);
    expect((await pvcJson<Array<{ kind: string }>>('network', 'dhcp', 'list', 'prod', '--kind', 'lease')).map((e) => e.kind)).toEqual(['lease', 'lease']);
    expect(await pvc('network', 'dhcp', 'list', 'prod')).toBe(0);
    expect(sandbox.out).toMatch(/^KIND\s+MAC\s+IPV4\s+HOSTNAME\s+EXPIRES\n/);
    expect(sandbox.out).toMatch(/^lease\s+52:54:00:aa:00:09\s+10\.100\.0\.150\s+laptop\s+2030-03-17T17:46:40Z$/m);
    expect(sandbox.out).toMatch(/^lease\s+52:54:00:aa:00:01\s+10\.100\.0\.10\s+web1\s+never$/m);
    await refused('invalid --kind "both": use reservation or lease', 'network', 'dhcp', 'list', 'prod', '--kind', 'both');

    expect(await pvc('network', 'dhcp', 'remove', 'prod', '52:54:00:AA:00:02')).toBe(0);
    expect(sandbox.out).toBe('removed the reservation of 52:54:00:aa:00:02 (10.100.0.11) from network prod\n');
    expect(await store.get(layout.networkReservation('prod', '52:54:00:aa:00:02'))).toBeNull();
    await refused('network prod has no dhcp reservation for mac 52:54:00:aa:00:02', 'network', 'dhcp', 'remove', 'prod', '52:54:00:aa:00:02');
    await refused('invalid mac "nope": must be a unicast mac address such as 52:54:00:12:34:56', 'network', 'dhcp', 'remove', 'prod', 'nope');
  });

  it('manages acls in order', async () => {
    const ssh = await pvcJson<Record<string, unknown>>('network', 'acl', 'add', 'prod', 'ssh', '--direction', 'in', '--action', 'accept', '--protocol', 'tcp', '--ports', '22', '--source', '192.168.1.0/24');
    expect(ssh).toEqual({ name: 'ssh', acl: { direction: 'in', order: 0, action: 'accept', source: '192.168.1.0/24', destination: null, protocol: 'tcp', ports: [{ from: 22, to: 22 }], description: '' } });
    expect(await pvc('network', 'acl', 'add', 'prod', 'web', '--direction', 'in', '--action', 'accept', '--protocol', 'tcp', '--ports', '80,443,8000-8080', '--destination', '10.100.0.10')).toBe(0);
    expect(sandbox.out).toBe('added acl web to network prod: in #10 accept tcp from any to 10.100.0.10/32 ports 80,443,8000-8080\n');
    expect(await pvc('network', 'acl', 'add', 'prod', 'first', '--direction', 'in', '--action', 'drop', '--source', '192.168.1.66', '--order', '0')).toBe(0);
    expect(await pvc('network', 'acl', 'add', 'prod', 'no-smtp', '--direction', 'out', '--action', 'reject', '--protocol', 'tcp', '--ports', '25')).toBe(0);
    expect((await store.get(layout.networkAcl('prod', 'web')))?.value).toMatchObject({ order: 10, ports: [{ from: 80, to: 80 }, { from: 443, to: 443 }, { from: 8000, to: 8080 }] });

    expect((await pvcJson<Array<{ name: string }>>('network', 'acl', 'list', 'prod')).map((a) => a.name)).toEqual(['first', 'ssh', 'web', 'no-smtp']);
    expect((await pvcJson<Array<{ name: string }>>('network', 'acl', 'list', 'prod', '--direction', 'out')).map((a) => a.name)).toEqual(['no-smtp']);
    expect(await pvc('network', 'acl', 'list', 'prod')).toBe(0);
    expect(sandbox.out).toMatch(/^DIRECTION\s+ORDER\s+NAME\s+ACTION\s+PROTOCOL\s+SOURCE\s+DESTINATION\s+PORTS\s+DESCRIPTION\n/);
    expect(sandbox.out).toMatch(/^in\s+0\s+first\s+drop\s+any\s+192\.168\.1\.66\/32\s+any\s+any\s+-$/m);

    await refused('acl ssh already exists on network prod', 'network', 'acl', 'add', 'prod', 'ssh', '--direction', 'in', '--action', 'drop');
    await refused('network uplink is bridged: acls apply to managed networks only', 'network', 'acl', 'add', 'uplink', 'ssh', '--direction', 'in', '--action', 'drop');
    await refused('invalid acl x: ports: ports need protocol tcp or udp', 'network', 'acl', 'add', 'prod', 'x', '--direction', 'in', '--action', 'drop', '--ports', '22');
    await refused('invalid port "ssh" in "ssh": use numbers 1-65535 and ranges such as 80-90, separated by commas', 'network', 'acl', 'add', 'prod', 'x', '--direction', 'in', '--action', 'drop', '--protocol', 'tcp', '--ports', 'ssh');
    await refused('invalid acl source 10.0.0.1/8: it has host bits set; the subnet is 10.0.0.0/8', 'network', 'acl', 'add', 'prod', 'x', '--direction', 'in', '--action', 'drop', '--source', '10.0.0.1/8');
    await refused('invalid acl x: destination: source and destination must be of the same address family', 'network', 'acl', 'add', 'prod', 'x', '--direction', 'in', '--action', 'drop', '--source', '10.0.0.0/8', '--destination', 'fd00::/64');
    await refused('invalid acl direction "both": use in (towards the network\'s vms) or out (from them)', 'network', 'acl', 'add', 'prod', 'x', '--direction', 'both', '--action', 'drop');
    await refused(/^pvc: invalid acl x: action: .*"allow"/, 'network', 'acl', 'add', 'prod', 'x', '--direction', 'in', '--action', 'allow');
    await refused("required option '--action <action>' not specified", 'network', 'acl', 'add', 'prod', 'x', '--direction', 'in');

    expect(await pvc('network', 'acl', 'remove', 'prod', 'first')).toBe(0);
    expect(sandbox.out).toBe('removed acl first from network prod\n');
    await refused('network prod has no acl first', 'network', 'acl', 'remove', 'prod', 'first');
    await refused('invalid acl direction "up": use in or out', 'network', 'acl', 'list', 'prod', '--direction', 'up');
    const info = await pvcJson<{ reservations: number; leases: number; acls: number }>('network', 'info', 'prod');
    expect(info).toMatchObject({ reservations: 1, leases: 2, acls: 3 });
  });

  it('refuses to remove a network a vm uses, then removes it with everything under it', async () => {
    await store.create(layout.vm('web1'), { ...TEST_GUEST_SPEC, name: 'web1', nics: [{ network: 'prod', mac: '52:54:00:aa:00:01' }] });
    await refused('network prod is used by the nics of vm web1 (52:54:00:aa:00:01): remove those nics or vms first', 'network', 'remove', 'prod', '--yes');
    expect(await pvcJson<{ vms: string[] }>('network', 'info', 'prod')).toMatchObject({ vms: ['web1'] });
    await store.remove(layout.vm('web1'));
    await refused('not removing network prod without confirmation: give --yes', 'network', 'remove', 'prod');
    await refused('network ghost not found in cluster ' + layout.cluster, 'network', 'remove', 'ghost', '--yes');

    const removed = await pvcJson<Record<string, unknown>>('network', 'remove', 'prod', '--yes');
    expect(removed).toEqual({ name: 'prod', removedReservations: 1, removedAcls: 3 });
    expect(await store.stat(layout.network('prod'))).toBeNull();
    expect(Object.keys(await snapshot(layout.networksDir().path)).sort()).toEqual([layout.networksDir().path, layout.network('uplink').path, ...layout.networkDirectories('uplink').map((d) => d.path)].sort());
    expect(await pvc('network', 'remove', 'uplink', '--yes')).toBe(0);
    expect(sandbox.out).toBe('removed network uplink (0 dhcp reservations, 0 acls)\n');
    expect(await pvc('network', 'list')).toBe(0);
    expect(sandbox.out).toBe('no networks defined yet\n');
  });

  it('reports an unreachable cluster with exit 2', async () => {
    expect(await pvc('--connection', 'dead', 'network', 'list')).toBe(2);
    expect(sandbox.err).toMatch(/^pvc: cannot reach zookeeper at 127\.0\.0\.1:\d+/);
  });

  it('runs through the real launcher', async () => {
    const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvc-cli-network-bin-'));
    try {
      fs.writeFileSync(path.join(configDir, 'connections.yaml'), connectionsYaml, { mode: 0o600 });
      const run = (...args: string[]) =>
        execa('node', [path.join(REPO_ROOT, 'bin', 'pvc.js'), ...args], { cwd: REPO_ROOT, env: { PVC_CONFIG_DIR: configDir, PVC_CONNECTION: '' }, reject: false, timeout: LAUNCHER_TIMEOUT_MS, stdin: 'ignore' });
      const added = await run('network', 'add', 'bin', '--vni', '900', '--ipv4', '10.90.0.0/24', '--format', 'json');
      expect(added.stderr).toBe('');
      expect(added.exitCode).toBe(0);
      const overlap = await run('network', 'add', 'bin2', '--vni', '901', '--ipv4', '10.90.0.0/16');
      expect(overlap.exitCode).toBe(1);
      expect(overlap.stderr).toBe('pvc: network bin2: ipv4 subnet 10.90.0.0/16 overlaps subnet 10.90.0.0/24 of network bin');
      const removed = await run('network', 'remove', 'bin', '--yes');
      expect(removed.exitCode).toBe(0);
    } finally {
      fs.rmSync(configDir, { recursive: true, force: true });
    }
  });
});

describe('pvc cluster network', () => {
  it('shows the defaults migration 4 wrote, and changes them', async () => {
    // Written by migration 4, before upstreamResolvers existed: read as none.
    expect(await pvcJson<ClusterNetwork>('cluster', 'network', 'show')).toEqual({ asn: 65500, upstreamPeers: [], floatingIps: [], dnsZone: `${layout.cluster}.pvc.local`, upstreamResolvers: [] });
    const set = await pvcJson<{ changed: boolean; settings: ClusterNetwork }>(
      'cluster', 'network', 'set', '--asn', '65100', '--dns-zone', 'lab.example', '--add-peer', '192.0.2.1,65001', '--add-peer', '2001:DB8::1,65002', '--add-floating-ip', '10.0.0.254/24,eno1',
      '--upstream-resolvers', '192.0.2.53,2001:DB8::53',
    );
    expect(set).toEqual({
      changed: true,
      settings: { asn: 65100, dnsZone: 'lab.example', upstreamPeers: [{ address: '192.0.2.1', asn: 65001 }, { address: '2001:db8::1', asn: 65002 }], floatingIps: [{ address: '10.0.0.254/24', device: 'eno1' }], upstreamResolvers: ['192.0.2.53', '2001:db8::53'] },
    });
    expect((await store.get(layout.clusterNetwork()))?.value).toEqual(set.settings);
    expect(await pvc('cluster', 'network', 'show')).toBe(0);
    expect(sandbox.out).toMatch(/^upstream peers\s+192\.0\.2\.1 \(asn 65001\), 2001:db8::1 \(asn 65002\)$/m);
    expect(sandbox.out).toMatch(/^floating ips\s+10\.0\.0\.254\/24 on eno1$/m);
    expect(sandbox.out).toMatch(/^upstream resolvers\s+192\.0\.2\.53, 2001:db8::53$/m);
    expect(await pvc('cluster', 'network', 'set', '--asn', '65100')).toBe(0);
    expect(sandbox.out).toMatch(/^cluster network settings unchanged\n\nasn\s+65100\n/);

    await refused('upstream peer 192.0.2.1 is already configured; remove it first to change it', 'cluster', 'network', 'set', '--add-peer', '192.0.2.1,65009');
    await refused('no upstream peer "192.0.2.9" to remove', 'cluster', 'network', 'set', '--remove-peer', '192.0.2.9');
    await refused('invalid --add-peer "192.0.2.5": use ADDRESS,ASN such as 192.0.2.1,65001', 'cluster', 'network', 'set', '--add-peer', '192.0.2.5');
    await refused('invalid --asn "0": use a whole number from 1 to 4294967295', 'cluster', 'network', 'set', '--asn', '0');
    await refused(/^pvc: invalid cluster network settings: dnsZone: must be a dns name/, 'cluster', 'network', 'set', '--dns-zone', 'Lab_Zone');
    await refused(/^pvc: invalid cluster network settings: floatingIps.1.address: must be an address with a prefix length/, 'cluster', 'network', 'set', '--add-floating-ip', '10.0.0.253');
    await refused('nothing to set: give at least one option (see pvc cluster network set --help)', 'cluster', 'network', 'set');
    await refused(/^pvc: invalid cluster network settings: upstreamResolvers.1: must be an ipv4 or canonical ipv6 address/, 'cluster', 'network', 'set', '--upstream-resolvers', '192.0.2.53,dns.example');
    await refused('invalid --upstream-resolvers "192.0.2.53,": use comma-separated addresses such as 192.0.2.53,2001:db8::53, or none', 'cluster', 'network', 'set', '--upstream-resolvers', '192.0.2.53,');
    await refused(/^pvc: invalid cluster network settings: upstreamResolvers: must not list the same resolver twice/, 'cluster', 'network', 'set', '--upstream-resolvers', '192.0.2.53,192.0.2.53');
    expect((await pvcJson<{ settings: ClusterNetwork }>('cluster', 'network', 'set', '--upstream-resolvers', 'none')).settings.upstreamResolvers).toEqual([]);

    const removed = await pvcJson<{ settings: ClusterNetwork }>('cluster', 'network', 'set', '--remove-peer', '2001:db8::1', '--remove-floating-ip', '10.0.0.254');
    expect(removed.settings).toMatchObject({ upstreamPeers: [{ address: '192.0.2.1', asn: 65001 }], floatingIps: [] });
    // A network added now takes its default domain from the new zone.
    expect(await pvcJson<{ spec: { domain: string } }>('network', 'add', 'zoned', '--vni', '400', '--ipv4', '10.40.0.0/24')).toMatchObject({ spec: { domain: 'zoned.lab.example' } });
    expect(await pvc('network', 'remove', 'zoned', '--yes')).toBe(0);
  });
});

describe('two clients at once', () => {
  const target = () => ({ store, layout });

  it('lets exactly one of many clients take a vni, and one of many overlapping subnets', async () => {
    const sameVni = await Promise.allSettled(
      Array.from({ length: RACERS }, (_, i) => addNetwork(target(), { name: `vni-race-${i}`, type: 'managed', vni: 500, ipv4: { subnet: `10.50.${i}.0/24` } })),
    );
    expect(sameVni.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of sameVni) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/vni 500 is already used by network vni-race-\d/);

    const overlapping = await Promise.allSettled(
      Array.from({ length: RACERS }, (_, i) => addNetwork(target(), { name: `net-race-${i}`, type: 'managed', vni: 600 + i, ipv4: { subnet: i % 2 === 0 ? '10.60.0.0/16' : `10.60.${i}.0/24` } })),
    );
    expect(overlapping.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const winners = (await Promise.all((await store.children(layout.networksDir())).map((n) => store.get(layout.network(n))))).filter((s) => s?.value.name.startsWith('net-race-'));
    expect(winners).toHaveLength(1);

    // A modify racing an add for the same vni: never both.
    const [mod, add] = await Promise.allSettled([
      modifyNetwork(target(), winners[0]?.value.name as string, { vni: 700 }),
      addNetwork(target(), { name: 'vni-700', type: 'managed', vni: 700, ipv4: { subnet: '10.70.0.0/24' } }),
    ]);
    expect([mod.status, add.status].filter((s) => s === 'fulfilled')).toHaveLength(1);
    const all = await Promise.all((await store.children(layout.networksDir())).map((n) => store.get(layout.network(n))));
    expect(all.filter((s) => s?.value.type === 'managed' && s.value.vni === 700)).toHaveLength(1);
  });

  it('lets exactly one of many clients reserve an address', async () => {
    await addNetwork(target(), { name: 'resv', type: 'managed', vni: 800, ipv4: { subnet: '10.80.0.0/24' } });
    const results = await Promise.allSettled(Array.from({ length: RACERS }, (_, i) => addReservation(target(), 'resv', { mac: `52:54:00:bb:00:0${i}`, ipv4: '10.80.0.5' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/ip 10\.80\.0\.5 is already reserved for mac 52:54:00:bb:00:0\d on network resv/);
    expect(await store.children(layout.networkReservationsDir('resv'))).toHaveLength(1);
  });
});
