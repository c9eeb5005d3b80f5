// The local cluster's network fabric (issue 6): the three local nodes share this machine's network
// namespace with everything else, so each gets a network namespace of its own for pvc's networks
// (its VXLAN interfaces and bridges, zebra + bgpd, the firewall, and on the primary the gateway
// address, dnsmasq and PowerDNS), joined by an underlay: one more namespace holding the bridge
// `ul`, each node's `eth0` a veth into it. pvcd itself stays in the host namespace, where it
// reaches ZooKeeper and its libvirtd; its `network.netns` makes every network call run in the
// node's namespace (as the real network tests do). Nothing is created in the host namespace.
//
// Names: `pvcl-<what>` for the default cluster folder, `pvcl<6 hex>-<what>` for another one
// (PVC_LOCAL_CLUSTER_DIR: the tests' second local cluster), derived from the folder, so
// teardown finds them without a state file. The `-` keeps them apart from the tests' namespaces
// (`pvc<tag><pid>`, letters and digits only).
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { FrrDaemons } from '../../daemon/drivers/frr/daemons.ts';
import { CLUSTER_DIR, LOCAL_NODES } from './local-cluster.ts';
import { addNetns, deleteNetns, ipIn, netnsExists, pidsIn } from './netns.ts';
import { REPO_ROOT, signalIfAlive, waitGone } from './pvcd-process.ts';

/** The network services' state, the "VMs'" logs and PID files, and a link to FRR's folders. */
export const NETWORK_DIR = path.join(CLUSTER_DIR, 'network');
/**
 * FRR's folders (configs, pid files, vty sockets, logs): FRR runs as user frr, which must be able
 * to walk down to them, and a cluster folder may sit below one it cannot enter (a repository in
 * /root, a mkdtemp folder of a test). NETWORK_DIR/frr links here.
 */
const FRR_RUN_DIR = '/run/pvc-local-frr';
/** What `npm run cluster` creates through the client library (local-network-vms.ts). */
export const LOCAL_NETWORK = {
  name: 'lan',
  vni: 100,
  subnet: '10.100.0.0/24',
  gateway: '10.100.0.1',
  dhcpStart: '10.100.0.100',
  dhcpEnd: '10.100.0.199',
  /** The network's DNS domain, in the local cluster's zone (`local.pvc.local`). */
  domain: 'lan.local.pvc.local',
} as const;
/** The primary runnables that serve it: gateway addresses, PowerDNS, one dnsmasq per network. */
export const LOCAL_NETWORK_RUNNABLES = ['gateways', 'dns', 'dhcp'] as const;
/** "VMs": a namespace each, its eth0 a veth whose other end is plugged into its node's bridge. */
export const LOCAL_VMS = [
  { name: 'vm1', node: 'pvc2', mac: '52:54:00:10:00:01', reservedIpv4: null },
  { name: 'vm2', node: 'pvc3', mac: '52:54:00:10:00:02', reservedIpv4: '10.100.0.50' },
] as const;
export type LocalVm = (typeof LOCAL_VMS)[number];
/** The underlay: node i is `<prefix>.<i>`; the floating IP moves with the primary. */
const UNDERLAY_PREFIX = '172.31.0';
export const UNDERLAY_FLOATING_IP = `${UNDERLAY_PREFIX}.250/24`;
const UNDERLAY_DEVICE = 'eth0';
const UNDERLAY_BRIDGE = 'ul';
/** Processes left in a namespace at teardown get SIGTERM, then SIGKILL after this. */
const LEFTOVER_GRACE_MS = 5_000;
const DEFAULT_CLUSTER_DIR = path.join(REPO_ROOT, '.state', 'cluster');
const HASH_HEX_CHARS = 6;

export interface FabricNode {
  node: string;
  netns: string;
  underlayAddress: string;
  frrDir: string;
}

export interface LocalFabric {
  underlay: string;
  nodes: FabricNode[];
  /** FRR's folders of this cluster: one per node below it. */
  frrDir: string;
}

/** Whether `npm run cluster` builds the network: yes unless PVC_LOCAL_NETWORK is 0/false/no/off. */
export function localNetworkWanted(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = (env.PVC_LOCAL_NETWORK ?? '').trim().toLowerCase();
  if (['', '1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new Error(`invalid PVC_LOCAL_NETWORK ${JSON.stringify(env.PVC_LOCAL_NETWORK)}: use 0 to skip the network, or 1 (the default)`);
}

/** `pvcl-` for the default cluster folder, else `pvcl<hash of the folder>-`. */
export function netnsPrefix(clusterDir: string = CLUSTER_DIR): string {
  if (path.resolve(clusterDir) === DEFAULT_CLUSTER_DIR) return 'pvcl-';
  return `pvcl${createHash('sha256').update(path.resolve(clusterDir)).digest('hex').slice(0, HASH_HEX_CHARS)}-`;
}

/** The fabric's names and addresses (pure: what exists is not looked at). */
export function localFabric(): LocalFabric {
  const prefix = netnsPrefix();
  const frrDir = path.join(FRR_RUN_DIR, prefix.slice(0, -1));
  return {
    underlay: `${prefix}ul`,
    nodes: LOCAL_NODES.map((node, i) => ({ node, netns: `${prefix}${node}`, underlayAddress: `${UNDERLAY_PREFIX}.${i + 1}`, frrDir: path.join(frrDir, node) })),
    frrDir,
  };
}

export function vmNetns(vm: { name: string }): string {
  return `${netnsPrefix()}${vm.name}`;
}

/** Every namespace of the local network, the VMs' first (torn down in this order). */
export function localNamespaces(): string[] {
  const fabric = localFabric();
  return [...LOCAL_VMS.map(vmNetns), ...fabric.nodes.map((n) => n.netns), fabric.underlay];
}

/** Builds the underlay and the node namespaces (leftovers of the same names are replaced). */
export async function createLocalFabric(): Promise<LocalFabric> {
  const fabric = localFabric();
  mkdirSync(fabric.frrDir, { recursive: true, mode: 0o755 });
  mkdirSync(NETWORK_DIR, { recursive: true });
  rmSync(path.join(NETWORK_DIR, 'frr'), { force: true });
  symlinkSync(fabric.frrDir, path.join(NETWORK_DIR, 'frr'));
  await addNetns(fabric.underlay);
  await ipIn(fabric.underlay, ['link', 'add', UNDERLAY_BRIDGE, 'type', 'bridge', 'stp_state', '0']);
  await ipIn(fabric.underlay, ['link', 'set', UNDERLAY_BRIDGE, 'up']);
  for (const [i, node] of fabric.nodes.entries()) {
    await addNetns(node.netns);
    const port = `${UNDERLAY_BRIDGE}${i + 1}`;
    await ipIn(fabric.underlay, ['link', 'add', port, 'type', 'veth', 'peer', 'name', UNDERLAY_DEVICE, 'netns', node.netns]);
    await ipIn(fabric.underlay, ['link', 'set', port, 'master', UNDERLAY_BRIDGE, 'up']);
    await ipIn(node.netns, ['addr', 'add', `${node.underlayAddress}/24`, 'dev', UNDERLAY_DEVICE]);
    await ipIn(node.netns, ['link', 'set', UNDERLAY_DEVICE, 'up']);
  }
  return fabric;
}

/**
 * pvcd's `network` section (real drivers in the node's namespace, FRR's folder under /run) and
 * `services` section (the namespace and floating-IP device default to the network's).
 */
export function localNetworkSections(fabric: LocalFabric, node: string): Record<string, unknown> {
  const n = fabric.nodes.find((f) => f.node === node);
  if (!n) throw new Error(`the local network has no node ${node}`);
  return {
    network: { driver: 'real', netns: n.netns, underlayDevice: UNDERLAY_DEVICE, vtepAddress: n.underlayAddress, frr: { stateDir: n.frrDir } },
    services: { stateDir: path.join(NETWORK_DIR, 'services', node) },
  };
}

/**
 * Removes the local network, after the pvcds stopped (they stop dnsmasq, PowerDNS and the
 * gateway addresses; FRR outlives pvcd by design): FRR of each node, then whatever still runs
 * inside one of its namespaces (the VMs' udhcpc; on a node, what a killed pvcd left), by PID,
 * then the namespaces. Returns what it did, one line each. Safe when nothing exists.
 */
export async function stopLocalNetwork(): Promise<string[]> {
  const done: string[] = [];
  const fabric = localFabric();
  for (const node of fabric.nodes) {
    const frr = new FrrDaemons({ stateDir: node.frrDir, netns: node.netns });
    const running = await frr.running();
    if (!running.zebra && !running.bgpd) continue;
    await frr.stop();
    done.push(`stopped frr of ${node.node}`);
  }
  rmSync(fabric.frrDir, { recursive: true, force: true });
  const namespaces = localNamespaces().filter(netnsExists);
  for (const ns of namespaces) {
    const pids = await pidsIn(ns);
    for (const pid of pids) signalIfAlive(pid, 'SIGTERM');
    for (const pid of pids) if (!(await waitGone(pid, LEFTOVER_GRACE_MS))) signalIfAlive(pid, 'SIGKILL');
    for (const pid of pids) await waitGone(pid, LEFTOVER_GRACE_MS);
    if (pids.length > 0) done.push(`stopped pid ${pids.join(', ')} in ${ns}`);
    await deleteNetns(ns);
  }
  if (namespaces.length > 0) done.push(`deleted network namespaces ${namespaces.join(', ')}`);
  return done;
}
