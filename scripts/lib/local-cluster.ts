// Where the local dev cluster keeps its state (.state/cluster, git-ignored) and how to tell
// whether it is running: from its PID files, checking each PID's command line.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, isPvcdProcess } from './pvcd-process.ts';

/** PVC_LOCAL_CLUSTER_DIR moves it (the tests run a second local cluster beside yours). */
export const CLUSTER_DIR = process.env.PVC_LOCAL_CLUSTER_DIR ?? path.join(REPO_ROOT, '.state', 'cluster');
export const ZK_DIR = path.join(CLUSTER_DIR, 'zk');
export const PVCD_DIR = path.join(CLUSTER_DIR, 'pvcd');
export const PASSWORD_FILE = path.join(CLUSTER_DIR, 'zk-password');
/** One libvirtd "node" (private mount + UTS namespace) per pvcd: LIBVIRT_DIR/<node>. */
export const LIBVIRT_DIR = path.join(CLUSTER_DIR, 'libvirt');
/** Serial console logs of each node's VMs: CONSOLE_DIR/<node>/<vm>.log. */
export const CONSOLE_DIR = path.join(CLUSTER_DIR, 'console');
/** A ready-made definition of the diskless test guest, with this machine's paths. */
export const SAMPLE_VM_FILE = path.join(CLUSTER_DIR, 'sample-vm.yaml');
export const SAMPLE_VM_NAME = 'sample';
/** The local single-host Ceph (1 mon, 1 mgr, 1 bluestore OSD on a sparse file); PVC_LOCAL_CEPH=0 skips it. */
export const CEPH_DIR = path.join(CLUSTER_DIR, 'ceph');
/** The pool `npm run cluster` creates (through the storage client, so pvc manages it). */
export const LOCAL_POOL = 'vms';
/** A golden image in LOCAL_POOL (SAMPLE_BASE_VOLUME@SAMPLE_BASE_SNAPSHOT) to clone VM disks from. */
export const SAMPLE_BASE_VOLUME = 'sample-base';
export const SAMPLE_BASE_SNAPSHOT = 'gold';
/** The sample guest again, booting with an RBD disk (a clone of the golden image) as vda. */
export const SAMPLE_RBD_VM_FILE = path.join(CLUSTER_DIR, 'sample-rbd-vm.yaml');
export const SAMPLE_RBD_VM_NAME = 'sample-rbd';
export const SAMPLE_RBD_DISK = 'sample-rbd-disk0';

/** Whether `npm run cluster` brings up Ceph: yes unless PVC_LOCAL_CEPH is 0/false/no/off. */
export function localCephWanted(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const value = (env.PVC_LOCAL_CEPH ?? '').trim().toLowerCase();
  if (['', '1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new Error(`invalid PVC_LOCAL_CEPH ${JSON.stringify(env.PVC_LOCAL_CEPH)}: use 0 to skip ceph, or 1 (the default)`);
}
export const LOCAL_CLUSTER_NAME = 'local';
export const LOCAL_CONNECTION_NAME = 'local';
export const LOCAL_ZK_USER = 'pvc';
export const LOCAL_NODES = ['pvc1', 'pvc2', 'pvc3'] as const;

export interface RunningPvcd {
  node: string;
  pid: number;
  configPath: string;
}

/** The local cluster's pvcd processes that are running now. */
export function runningPvcds(): RunningPvcd[] {
  if (!existsSync(PVCD_DIR)) return [];
  const found: RunningPvcd[] = [];
  for (const file of readdirSync(PVCD_DIR)) {
    if (!file.endsWith('.pid')) continue;
    const node = file.slice(0, -'.pid'.length);
    const pid = Number(readFileSync(path.join(PVCD_DIR, file), 'utf8').trim());
    const configPath = path.join(PVCD_DIR, `${node}.yaml`);
    if (Number.isInteger(pid) && pid > 0 && isPvcdProcess(pid, configPath)) found.push({ node, pid, configPath });
  }
  return found;
}
