// `npm run cluster:down`: stops what `npm run cluster` started, by PID: the pvcd processes
// first (each hands over and leaves cleanly), then the local network (FRR, the "VMs'" udhcpc,
// the namespaces), then each node's libvirtd (its VMs destroyed),
// then the Ceph daemons (after the VMs whose disks they serve), then the ZooKeeper servers.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../common/errors.ts';
import { stopCephClustersUnder } from './lib/ceph-cluster.ts';
import { CLUSTER_DIR, LIBVIRT_DIR, PVCD_DIR, ZK_DIR, runningPvcds } from './lib/local-cluster.ts';
import { stopLocalNetwork } from './lib/local-network.ts';
import { stopLibvirtNodesUnder } from './lib/libvirt-node.ts';
import { stopPvcd } from './lib/pvcd-process.ts';
import { stopEnsembleDir } from './lib/zk-ensemble.ts';

async function main(): Promise<void> {
  const pvcds = runningPvcds();
  // One at a time: each primary hands over to a coordinator that is still running.
  for (const p of pvcds) {
    await stopPvcd(p.pid, p.configPath);
    rmSync(path.join(PVCD_DIR, `${p.node}.pid`), { force: true });
    console.log(`stopped pvcd ${p.node} (pid ${p.pid})`);
  }
  // After the pvcds (they stop dnsmasq and PowerDNS): FRR, the VMs' udhcpc, the namespaces.
  for (const line of await stopLocalNetwork()) console.log(line);
  for (const dir of await stopLibvirtNodesUnder(LIBVIRT_DIR)) console.log(`stopped libvirtd in ${dir}`);
  // Depth 1: the cluster in CLUSTER_DIR/ceph (its files stay until the next `npm run cluster`).
  const ceph = await stopCephClustersUnder(CLUSTER_DIR, { maxDepth: 1 });
  for (const dir of ceph) console.log(`stopped ceph in ${dir}`);
  const zk = await stopEnsembleDir(ZK_DIR);
  for (const pid of zk) console.log(`stopped zookeeper (pid ${pid})`);
  if (pvcds.length === 0 && zk.length === 0 && ceph.length === 0) console.log('the local cluster was not running');
}

main().catch((error) => {
  console.error(`cluster:down: ${errorMessage(error)}`);
  process.exit(1);
});
