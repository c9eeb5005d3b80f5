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
