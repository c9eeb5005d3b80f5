// What `npm run cluster` puts on the local network, through the client library as `pvc network
// add` and `pvc network dhcp add` would: the cluster network settings (a floating IP on the
// underlay), the managed network `lan` (VNI 100, 10.100.0.0/24, DHCP), a reservation; then two
// "VMs" that take DHCP leases from the primary's dnsmasq across the VXLAN, so `pvc network dhcp
// list lan` shows real leases. A "VM" is a namespace whose eth0 is a veth with its other end
// plugged into `vmbr100` of its node's namespace (as libvirt plugs a tap), running busybox udhcpc
// in the foreground (it renews, and finds a new primary's dnsmasq after a failover) with our own
// hook script, which never touches /etc/resolv.conf.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCluster } from '../../common/client/client.ts';
import { setClusterNetwork } from '../../common/client/cluster-network.ts';
import { addReservation } from '../../common/client/network-dhcp.ts';
import { readLeases, type NetworkTarget } from '../../common/client/network-read.ts';
import { addNetwork } from '../../common/client/network-write.ts';
import type { Connection } from '../../common/connections.ts';
import { spawnBackground } from '../../common/exec.ts';
import { normalizeMac } from '../../common/net/mac.ts';
import { bridgeNameOf, type DhcpLease, type NetworkSpec } from '../../common/zk/schema.ts';
import { IprouteLinks } from '../../daemon/drivers/links/iproute.ts';
import { LOCAL_NETWORK, LOCAL_VMS, NETWORK_DIR, UNDERLAY_FLOATING_IP, netnsPrefix, vmNetns, type LocalFabric, type LocalVm } from './local-network.ts';
import { addNetns, ipIn } from './netns.ts';

const HOOK = fileURLToPath(new URL('udhcpc-hook.sh', import.meta.url));
/** Where each VM's udhcpc logs (the hook's `lease bound: ...` lines) and its PID file. */
export const VMS_DIR = path.join(NETWORK_DIR, 'vms');
/** pvcd builds the bridges within a pass or two of the network's creation (a second or so). */
const BRIDGES_WAIT_MS = 60_000;
/**
 * The first leases need the primary's dnsmasq up and EVPN's flood lists filled (a few seconds
 * after FRR starts); udhcpc retries meanwhile. A busy machine gets this long.
 */
const LEASES_WAIT_MS = 120_000;
const POLL_MS = 250;
/** udhcpc: discovers per round, seconds between them, and seconds before the next round. */
const UDHCPC_TRIES = 3;
const UDHCPC_TIMEOUT_S = 2;
const UDHCPC_PAUSE_S = 2;

export interface LocalVmLease {
  vm: string;
  node: string;
  mac: string;
  ipv4: string | null;
}

/**
 * Writes the network, waits until every node has its bridge, starts the VMs, and waits (bounded)
 * for their leases in ZooKeeper. Returns each VM's address; null for one that got none in time
 * (its udhcpc goes on asking). Needs running pvcds with the network sections.
 */
export async function setUpLocalNetwork(connection: Connection, fabric: LocalFabric): Promise<{ network: NetworkSpec; leases: LocalVmLease[] }> {
  const client = await openCluster(connection);
  const target: NetworkTarget = { store: client.store, layout: client.layout };
  try {
    await setClusterNetwork(target, { addFloatingIps: [{ address: UNDERLAY_FLOATING_IP, device: null }] });
    const { spec } = await addNetwork(target, {
      name: LOCAL_NETWORK.name,
      type: 'managed',
      vni: LOCAL_NETWORK.vni,
      description: 'the local cluster network',
      domain: LOCAL_NETWORK.domain,
      ipv4: { subnet: LOCAL_NETWORK.subnet, gateway: LOCAL_NETWORK.gateway, dhcp: { start: LOCAL_NETWORK.dhcpStart, end: LOCAL_NETWORK.dhcpEnd } },
    });
    for (const vm of LOCAL_VMS) {
      if (vm.reservedIpv4 !== null) await addReservation(target, spec.name, { mac: vm.mac, ipv4: vm.reservedIpv4, hostname: vm.name });
    }
    const bridge = bridgeNameOf(spec);
    await waitForBridges(fabric, bridge);
    mkdirSync(VMS_DIR, { recursive: true });
    for (const vm of LOCAL_VMS) await startVm(fabric, vm, bridge);
    return { network: spec, leases: await waitForLeases(target, spec.name) };
  } finally {
    await client.close();
  }
}

async function waitForBridges(fabric: LocalFabric, bridge: string): Promise<void> {
  const deadline = Date.now() + BRIDGES_WAIT_MS;
  for (const node of fabric.nodes) {
    const links = new IprouteLinks({ netns: node.netns });
    for (;;) {
      const found = (await links.listLinks()).find((l) => l.name === bridge);
      if (found?.up) break;
      if (Date.now() > deadline) throw new Error(`pvcd ${node.node} made no ${bridge} in namespace ${node.netns} within ${BRIDGES_WAIT_MS} ms; see its log`);
      await sleep(POLL_MS);
    }
  }
}

/** The VM's namespace and veth, plugged into the bridge of its node; then its udhcpc. */
async function startVm(fabric: LocalFabric, vm: LocalVm, bridge: string): Promise<void> {
  const node = fabric.nodes.find((n) => n.node === vm.node);
  if (!node) throw new Error(`vm ${vm.name}: the local network has no node ${vm.node}`);
  const netns = vmNetns(vm);
  await addNetns(netns);
  // The node's end is named after the VM, as libvirt names a tap per NIC (vnetN).
  const tap = `tap-${vm.name}`;
  await ipIn(node.netns, ['link', 'add', tap, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await ipIn(netns, ['link', 'set', 'eth0', 'address', vm.mac]);
  await ipIn(netns, ['link', 'set', 'eth0', 'up']);
  await ipIn(node.netns, ['link', 'set', tap, 'master', bridge, 'up']);
  const args = [
    'netns', 'exec', netns, 'busybox', 'udhcpc', '-f', '-i', 'eth0', '-s', HOOK,
    '-t', String(UDHCPC_TRIES), '-T', String(UDHCPC_TIMEOUT_S), '-A', String(UDHCPC_PAUSE_S), '-x', `hostname:${vm.name}`,
  ];
  // `ip netns exec` execs the program: the PID is udhcpc's. Teardown finds it by its namespace.
  const pid = spawnBackground('ip', args, { logFile: path.join(VMS_DIR, `${vm.name}.log`), detached: true });
  writeFileSync(path.join(VMS_DIR, `${vm.name}.pid`), `${pid}\n`);
}

async function waitForLeases(target: NetworkTarget, network: string): Promise<LocalVmLease[]> {
  const deadline = Date.now() + LEASES_WAIT_MS;
  for (;;) {
    const leases = await readLeases(target, network);
    const found = LOCAL_VMS.map((vm) => ({ vm: vm.name, node: vm.node, mac: vm.mac, ipv4: leaseOf(leases, vm.mac)?.ipv4 ?? null }));
    if (found.every((f) => f.ipv4 !== null) || Date.now() > deadline) return found;
    await sleep(POLL_MS);
  }
}

function leaseOf(leases: readonly DhcpLease[], mac: string): DhcpLease | undefined {
  const wanted = normalizeMac(mac);
  return leases.find((l) => normalizeMac(l.mac) === wanted);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What `npm run cluster` prints once the network is set up. */
export function localNetworkReport(network: NetworkSpec, leases: readonly LocalVmLease[]): string[] {
  const ipv4 = network.type === 'managed' ? network.ipv4 : null;
  const lines = [`created network ${network.name} (vni ${LOCAL_NETWORK.vni}, ${ipv4?.subnet ?? '-'}, gateway ${ipv4?.gateway ?? '-'}) served by the primary`];
  for (const l of leases) {
    lines.push(l.ipv4 !== null
      ? `vm ${l.vm} (namespace ${vmNetns({ name: l.vm })}, on ${l.node}'s bridge) leased ${l.ipv4}`
      : `vm ${l.vm} (namespace ${vmNetns({ name: l.vm })}) has no lease yet; its udhcpc keeps asking (log ${path.join(VMS_DIR, `${l.vm}.log`)})`);
  }
  return lines;
}

/** The network part of the usage `npm run cluster` prints (also when the cluster already ran). */
export function localNetworkUsage(): string {
  if (!existsSync(VMS_DIR)) return '\n\nNo network (PVC_LOCAL_NETWORK=0): no namespaces, no leases.';
  const [vm1, vm2] = LOCAL_VMS;
  return `

Network (namespaces ${netnsPrefix()}*: an underlay, one per node with FRR EVPN, one per "VM"):
  npx pvc network list
  npx pvc network info ${LOCAL_NETWORK.name}
  npx pvc network dhcp list ${LOCAL_NETWORK.name}                          # leases of ${vm1.name} and ${vm2.name}, the reservation of ${vm2.name}
  npx pvc cluster network show
  ip netns exec ${vmNetns(vm1)} dig +short @${LOCAL_NETWORK.gateway} ${vm2.name}.${LOCAL_NETWORK.domain}   # through PowerDNS
  ip netns exec ${vmNetns(vm1)} ping -c1 ${LOCAL_NETWORK.gateway}                 # the gateway on the primary`;
}
