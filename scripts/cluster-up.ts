// `npm run cluster`: a local pvc cluster on this machine — a 3-server ZooKeeper ensemble on
// loopback and 3 pvcd coordinators, each its own process with its own libvirtd (QEMU under TCG,
// in a private mount + UTS namespace) — with its state under .state/cluster. It builds the
// diskless test guest, writes a definition of it, writes the `local` connection for the CLI and
// waits until a primary is elected. Unless PVC_LOCAL_CEPH=0, it also brings up a single-host Ceph
// (started first, so it overlaps everything else), gives each pvcd a `ceph` section, creates the
// pool `vms` with a golden image and writes a sample guest with an RBD disk.
// Unless PVC_LOCAL_NETWORK=0, it also builds the local network (scripts/lib/local-network.ts):
// a network namespace per node on an underlay namespace, pvcd's `network` and `services` sections
// pointing at them, the managed network `lan` and two "VM" namespaces holding DHCP leases.
// When the cluster already runs, it says so and starts nothing.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { addConnection } from '../common/connections.ts';
import { errorMessage } from '../common/errors.ts';
import { ZkLayout } from '../common/zk/schema.ts';
import { ZkStore } from '../common/zk/store.ts';
import { stopCephClustersUnder, type CephCluster } from './lib/ceph-cluster.ts';
import { CEPH_DIR, CLUSTER_DIR, CONSOLE_DIR, LIBVIRT_DIR, LOCAL_CLUSTER_NAME, LOCAL_CONNECTION_NAME, LOCAL_NODES, LOCAL_POOL, LOCAL_ZK_USER, PASSWORD_FILE, PVCD_DIR, SAMPLE_BASE_SNAPSHOT, SAMPLE_BASE_VOLUME, SAMPLE_RBD_DISK, SAMPLE_RBD_VM_FILE, SAMPLE_RBD_VM_NAME, SAMPLE_VM_FILE, SAMPLE_VM_NAME, ZK_DIR, localCephWanted, runningPvcds } from './lib/local-cluster.ts';
import { localCephAccess, localCephSection, sampleRbdVm, setUpLocalStorage, startLocalCeph } from './lib/local-storage.ts';
import { LOCAL_NETWORK_RUNNABLES, createLocalFabric, localNetworkSections, localNetworkWanted, stopLocalNetwork } from './lib/local-network.ts';
import { localNetworkReport, localNetworkUsage, setUpLocalNetwork } from './lib/local-network-vms.ts';
import { startLibvirtNode, stopLibvirtNodesUnder, type LibvirtNode } from './lib/libvirt-node.ts';
import { findFreePorts } from './lib/ports.ts';
import { startPvcd } from './lib/pvcd-process.ts';
import { ensureTestGuest, GUEST_BASE_CMDLINE, GUEST_MEMORY_MIB, type TestGuest } from './lib/test-guest.ts';
import { readEnsembleHosts, startEnsemble, stopEnsembleDir } from './lib/zk-ensemble.ts';

/** A fresh pvcd connects, migrates and wins in about a second; this only bounds a broken start. */
const PRIMARY_WAIT_MS = 60_000;
const POLL_MS = 100;

async function main(): Promise<void> {
  const withCeph = localCephWanted();
  const withNetwork = localNetworkWanted();
  const running = runningPvcds();
  if (running.length > 0) {
    console.log(`the local cluster is already running (pvcd ${running.map((p) => `${p.node}=${p.pid}`).join(', ')}); nothing started.`);
    console.log('stop it with: npm run cluster:down');
    printUsage();
    return;
  }
  // Leftovers of a cluster that died uncleanly (a rebooted machine, a killed pvcd) are cleared.
  await stopLibvirtNodesUnder(LIBVIRT_DIR);
  await stopEnsembleDir(ZK_DIR);
  await stopCephClustersUnder(CLUSTER_DIR, { maxDepth: 1 });
  await stopLocalNetwork();
  rmSync(CLUSTER_DIR, { recursive: true, force: true });
  mkdirSync(PVCD_DIR, { recursive: true });

  const password = localPassword();
  // Ceph first: its bring-up (~8 s alone, mostly waiting) overlaps ZooKeeper's, the libvirtd
  // nodes' and the guest build. Awaited below; the catch only keeps a failure from being reported
  // as unhandled before then.
  const cephStarting: Promise<CephCluster | null> = withCeph ? startLocalCeph() : Promise.resolve(null);
  cephStarting.catch(() => undefined);
  if (withCeph) console.log('starting a single-host ceph (1 mon, 1 mgr, 1 bluestore osd) on loopback...');
  else console.log('PVC_LOCAL_CEPH=0: no ceph; pvc storage and rbd disks are not available');
  console.log('starting a 3-server zookeeper ensemble on loopback...');
  const ensemble = await startEnsemble({ dir: ZK_DIR, size: 3, detached: true });
  console.log(`zookeeper ready at ${ensemble.hosts}`);
  // The network namespaces (scripts/lib/local-network.ts) take well under a second.
  const fabric = withNetwork ? await createLocalFabric() : null;
  if (fabric) console.log(`network namespaces: underlay ${fabric.underlay}, nodes ${fabric.nodes.map((n) => n.netns).join(', ')}`);
  else console.log('PVC_LOCAL_NETWORK=0: no network namespaces; pvc network commands work on specs only');

  console.log('building the test guest and starting a libvirtd per node (the first time takes a minute)...');
  const [guest, libvirtNodes, ceph] = await Promise.all([ensureTestGuest(), startLibvirtNodes(), cephStarting]);
  writeFileSync(SAMPLE_VM_FILE, stringify(sampleVm(guest)));
  if (ceph) console.log(`ceph ready: mon ${ceph.monHost}, conf ${ceph.confPath}`);
  const ports = await findFreePorts(LOCAL_NODES.length);
  LOCAL_NODES.forEach((node, i) => {
    const consoleLogDir = path.join(CONSOLE_DIR, node);
    mkdirSync(consoleLogDir, { recursive: true });
    const hypervisor = { driver: 'libvirt', uri: libvirtNodes[i]?.uri, migrateUri: `tcp://127.0.0.1:${ports[i]}`, consoleLogDir };
    const runnables = [...(ceph ? ['placement', 'storage-status'] : ['placement']), ...(fabric ? LOCAL_NETWORK_RUNNABLES : [])];
    const sections = { ...(ceph ? localCephSection(ceph) : {}), ...(fabric ? localNetworkSections(fabric, node) : {}) };
    const proc = startPvcd({ dir: PVCD_DIR, cluster: LOCAL_CLUSTER_NAME, node, role: 'coordinator', hosts: ensemble.hosts, user: LOCAL_ZK_USER, password, runnables, hypervisor, sections, detached: true });
    console.log(`started pvcd ${node} (pid ${proc.pid}, log ${proc.logPath}) with libvirtd ${libvirtNodes[i]?.uri}`);
  });
  const connection = addConnection(
    { name: LOCAL_CONNECTION_NAME, hosts: ensemble.hosts, cluster: LOCAL_CLUSTER_NAME, user: LOCAL_ZK_USER, password, ...(ceph ? { ceph: localCephAccess(ceph) } : {}) },
    { replace: true },
  );
  const primary = await waitForPrimary(ensemble.hosts, password);
  console.log(`primary coordinator: ${primary}`);
  if (ceph) {
    await setUpLocalStorage(connection);
    writeFileSync(SAMPLE_RBD_VM_FILE, stringify(sampleRbdVm(guest)));
    console.log(`created pool ${LOCAL_POOL} and the golden image ${LOCAL_POOL}/${SAMPLE_BASE_VOLUME}@${SAMPLE_BASE_SNAPSHOT}`);
  }
  if (fabric) {
    const { network, leases } = await setUpLocalNetwork(connection, fabric);
    for (const line of localNetworkReport(network, leases)) console.log(line);
  }
  printUsage();
}

function startLibvirtNodes(): Promise<LibvirtNode[]> {
  return Promise.all(
    LOCAL_NODES.map((node, i) =>
      // A fixed host UUID per node: libvirt refuses to migrate between hosts with the same one.
      startLibvirtNode({ dir: path.join(LIBVIRT_DIR, node), name: node, hostUuid: `10ca1000-0000-4000-8000-${String(i + 1).padStart(12, '0')}` }),
    ),
  );
}

/** The diskless test guest (a Debian kernel and a busybox initrd) as a pvc VM definition. */
function sampleVm(guest: TestGuest): Record<string, unknown> {
  return {
    name: SAMPLE_VM_NAME,
    vcpus: 1,
    memoryMiB: GUEST_MEMORY_MIB,
    boot: { kind: 'kernel', kernel: guest.kernelPath, initrd: guest.initrdPath, cmdline: `${GUEST_BASE_CMDLINE} stay=1` },
    serial: { log: true },
    placement: { migrationMethod: 'live' },
  };
}

function localPassword(): string {
  mkdirSync(CLUSTER_DIR, { recursive: true });
  if (existsSync(PASSWORD_FILE)) return readFileSync(PASSWORD_FILE, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(PASSWORD_FILE, `${password}\n`, { mode: 0o600 });
  return password;
}

async function waitForPrimary(hosts: string, password: string): Promise<string> {
  const store = await ZkStore.connect({ hosts, auth: { user: LOCAL_ZK_USER, password }, sessionTimeoutMs: 10_000, connectTimeoutMs: 10_000, requestTimeoutMs: 5_000 });
  try {
    const layout = new ZkLayout(LOCAL_CLUSTER_NAME);
    const deadline = Date.now() + PRIMARY_WAIT_MS;
    while (Date.now() < deadline) {
      const primary = await store.get(layout.primary()).catch(() => null);
      if (primary) return primary.value.node;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new Error(`no primary was elected within ${PRIMARY_WAIT_MS} ms; see the logs in ${PVCD_DIR}`);
  } finally {
    await store.close();
  }
}

function printUsage(): void {
  const hosts = readEnsembleHosts(ZK_DIR) ?? '(unknown)';
  console.log(`
The local cluster "${LOCAL_CLUSTER_NAME}" (zookeeper ${hosts}) is the CLI's "${LOCAL_CONNECTION_NAME}" connection:
  npx pvc cluster status
  npx pvc node list
  npx pvc node info pvc2 --format yaml
  npx pvc node primary pvc2
  npx pvc vm define ${path.relative(process.cwd(), SAMPLE_VM_FILE)} --start     # the diskless test guest
  npx pvc vm list
  npx pvc vm log ${SAMPLE_VM_NAME}                                    # its serial console
  npx pvc vm migrate ${SAMPLE_VM_NAME} --wait                         # live, to another node
  npx pvc node flush pvc1 --wait && npx pvc node ready pvc1 --wait
  npx pvc --help${existsSync(SAMPLE_RBD_VM_FILE) ? storageUsage() : '\n\nNo ceph (PVC_LOCAL_CEPH=0): pvc storage commands that act on ceph are refused.'}${localNetworkUsage()}
Logs: ${PVCD_DIR}/<node>.log    Stop everything: npm run cluster:down`);
}

function storageUsage(): string {
  const base = `${LOCAL_POOL}/${SAMPLE_BASE_VOLUME}@${SAMPLE_BASE_SNAPSHOT}`;
  return `

Storage (a single-host ceph, ${path.relative(process.cwd(), CEPH_DIR)}):
  npx pvc storage status
  npx pvc storage pool list
  npx pvc storage volume list
  npx pvc storage volume clone ${base} ${LOCAL_POOL}/${SAMPLE_RBD_DISK}     # copy-on-write
  npx pvc vm define ${path.relative(process.cwd(), SAMPLE_RBD_VM_FILE)} --start   # the guest on that rbd disk
  npx pvc vm log ${SAMPLE_RBD_VM_NAME}                                # GUEST-DISK: vda first line: ...
  npx pvc storage volume add ${LOCAL_POOL}/scratch 1G
  npx pvc storage volume upload ${LOCAL_POOL}/debian12 debian-12-genericcloud-amd64.qcow2`;
}

main().catch((error) => {
  console.error(`cluster: ${errorMessage(error)}`);
  process.exit(1);
});
