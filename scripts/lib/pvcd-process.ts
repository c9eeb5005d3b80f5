// Starts pvcd processes on this machine for the local cluster and the tests: writes each one's
// config, runs it as `node --import tsx daemon/main.ts` (one PID, so signals reach pvcd itself),
// and stops it by PID. A PID is only signalled while its command line names the config we wrote.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { spawnBackground } from '../../common/exec.ts';
import { REPO_ROOT } from '../../common/templates.ts';
import type { NodeRole } from '../../common/zk/schema.ts';

export { REPO_ROOT };
const DAEMON_MAIN = path.join(REPO_ROOT, 'daemon/main.ts');
/** pvcd hands over and exits within about a second; past this it is killed. */
const STOP_GRACE_MS = 15_000;
const GONE_POLL_MS = 25;

export interface PvcdSpec {
  /** Folder for this node's config, log, pid and journal files. */
  dir: string;
  cluster: string;
  node: string;
  role: NodeRole;
  hosts: string;
  user: string;
  password: string;
  /**
   * pvcd's own ZooKeeper identity (zookeeper.daemonUser/daemonPassword); absent:
   * DEFAULT_DAEMON_USER with a password derived from the cluster password, the same for every
   * pvcd of the cluster (a node with a `bmc` needs one, and a primary needs it to read them).
   */
  daemonAuth?: { user: string; password: string };
  sessionTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  /** Coordinators write a primary journal (start/tick/stop lines) when set. */
  journal?: boolean;
  /** Further primary runnables (e.g. placement), after the journal. */
  runnables?: string[];
  /** The node's hypervisor section (daemon/config.ts); absent: no VMs on this node. */
  hypervisor?: Record<string, unknown>;
  /**
   * Further top-level config sections (ceph, network, fencing, ...), merged in last. A
   * `zookeeper` section is merged into the one built from the fields above (e.g. other hosts
   * through a proxy) and keeps the daemon identity.
   */
  sections?: Record<string, unknown>;
  /** Run pvcd inside this named network namespace (`ip netns exec` execs in place: one PID). */
  netns?: string;
  detached: boolean;
}

export interface PvcdProcess {
  node: string;
  pid: number;
  configPath: string;
  logPath: string;
  journalPath: string | null;
}

/** The daemon identity of the pvcds of test and local clusters (see PvcdSpec.daemonAuth). */
export const DEFAULT_DAEMON_USER = 'pvcd-daemons';

function daemonAuthOf(spec: PvcdSpec): { user: string; password: string } {
  return spec.daemonAuth ?? { user: DEFAULT_DAEMON_USER, password: `${spec.password}-daemons` };
}

export function pvcdConfigDoc(spec: PvcdSpec): Record<string, unknown> {
  const daemonAuth = daemonAuthOf(spec);
  const journalPath = spec.journal && spec.role === 'coordinator' ? path.join(spec.dir, `${spec.node}.journal.jsonl`) : null;
  const runnables = spec.role === 'coordinator' ? [...(journalPath ? ['primary-journal'] : []), ...(spec.runnables ?? [])] : [];
  const { zookeeper: zookeeperSection, ...sections } = spec.sections ?? {};
  return {
    cluster: spec.cluster,
    node: spec.node,
    role: spec.role,
    zookeeper: {
      hosts: spec.hosts,
      user: spec.user,
      password: spec.password,
      daemonUser: daemonAuth.user,
      daemonPassword: daemonAuth.password,
      ...(zookeeperSection as Record<string, unknown> | undefined),
    },
    timeouts: {
      ...(spec.sessionTimeoutMs ? { sessionTimeoutMs: spec.sessionTimeoutMs } : {}),
      ...(spec.keepaliveIntervalMs ? { keepaliveIntervalMs: spec.keepaliveIntervalMs } : {}),
    },
    ...(runnables.length > 0 ? { coordinator: { runnables, ...(journalPath ? { primaryJournal: { path: journalPath, tickIntervalMs: 50 } } : {}) } } : {}),
    ...(spec.hypervisor ? { hypervisor: spec.hypervisor } : {}),
    ...sections,
  };
}

export function startPvcd(spec: PvcdSpec): PvcdProcess {
  mkdirSync(spec.dir, { recursive: true });
  const doc = pvcdConfigDoc(spec);
  const configPath = path.join(spec.dir, `${spec.node}.yaml`);
  writeFileSync(configPath, stringify(doc), { mode: 0o600 });
  const logPath = path.join(spec.dir, `${spec.node}.log`);
  const command = [process.execPath, '--import', 'tsx', DAEMON_MAIN, '--config', configPath];
  const [file, args] = spec.netns === undefined ? [process.execPath, command.slice(1)] : ['ip', ['netns', 'exec', spec.netns, ...command]];
  const pid = spawnBackground(file, args, {
    logFile: logPath,
    cwd: REPO_ROOT,
    detached: spec.detached,
  });
  writeFileSync(path.join(spec.dir, `${spec.node}.pid`), `${pid}\n`);
  const coordinator = doc.coordinator as { primaryJournal?: { path: string } } | undefined;
  return { node: spec.node, pid, configPath, logPath, journalPath: coordinator?.primaryJournal?.path ?? null };
}

/** True while `pid` runs pvcd with this config (so a reused PID is never signalled). */
export function isPvcdProcess(pid: number, configPath: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(configPath) && cmdline.includes(DAEMON_MAIN);
  } catch {
    return false;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; its /proc status says Z.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, GONE_POLL_MS));
  }
  return !isAlive(pid);
}

/** SIGTERM (pvcd hands over and exits), then SIGKILL after STOP_GRACE_MS. Resolves once gone. */
export async function stopPvcd(pid: number, configPath: string, graceMs = STOP_GRACE_MS): Promise<void> {
  if (!isPvcdProcess(pid, configPath)) return;
  signalIfAlive(pid, 'SIGCONT'); // a frozen process cannot act on SIGTERM
  signalIfAlive(pid, 'SIGTERM');
  if (await waitGone(pid, graceMs)) return;
  signalIfAlive(pid, 'SIGKILL');
  await waitGone(pid, graceMs);
}

export function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
