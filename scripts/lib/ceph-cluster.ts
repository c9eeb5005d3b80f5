// Starts and stops a throwaway single-host Ceph Pacific cluster (notes §13): 1 mon, 1 mgr and N
// OSDs (bluestore on sparse files, or memstore), cephx on, 127.0.0.1 only, every file under one
// folder. The monitor listens on ports chosen free by the kernel, so a test run's Ceph and the
// local cluster's Ceph live side by side (mgr and OSDs bind any free port of 6800-7300).
//
// Ceph daemons fork into the background: they are not children of this process. Each writes a pid
// file under DIR/run, and stopping signals a PID only while its command line names this cluster's
// ceph.conf, so a reused PID is never signalled. Readiness is polled, never slept for.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../common/exec.ts';
import { renderTemplate } from '../../common/templates.ts';
import { findFreePorts } from './ports.ts';
import { isAlive, signalIfAlive, waitGone } from './pvcd-process.ts';
import { findFoldersUnder } from './find-folders.ts';
import { linkSocketDir, unlinkSocketDir } from '../../common/unix-socket-dir.ts';

export type ObjectStore = 'bluestore' | 'memstore';

export interface CephClusterOptions {
  /** Absolute folder of the cluster; must be missing, empty, or an earlier stopped cluster (wiped). */
  dir: string;
  /** OSDs to start (0 to MAX_OSDS); default 1. */
  osds?: number;
  objectStore?: ObjectStore;
  /** Per OSD: the sparse block file (bluestore) or the RAM (memstore) it may use. */
  osdSizeBytes?: number;
  /** Default: two free ports (msgr v2, v1). */
  monPorts?: MonPorts;
  /** For the whole bring-up, polling included. */
  readyTimeoutMs?: number;
}

export interface MonPorts {
  v2: number;
  v1: number;
}

export interface CephCluster {
  readonly dir: string;
  readonly confPath: string;
  readonly adminKeyringPath: string;
  readonly fsid: string;
  /** As in ceph.conf: [v2:127.0.0.1:P2,v1:127.0.0.1:P1] */
  readonly monHost: string;
  readonly monPorts: MonPorts;
  /** For programs that read the cluster from the environment (ceph, rbd, qemu-img). */
  readonly env: Readonly<Record<string, string>>;
  /** Stops every daemon of the cluster (files stay). Idempotent. */
  stop(): Promise<void>;
}

interface ClusterFile {
  fsid: string;
  monHost: string;
  monPorts: MonPorts;
}

const MAX_OSDS = 8;
const DEFAULT_OSD_SIZE_BYTES: Record<ObjectStore, number> = { bluestore: 4 * 1024 ** 3, memstore: 1024 ** 3 };
/** 7.5 s for 1 OSD and 18.3 s for 3 here, alone; far more when other runs load the two cores. */
const DEFAULT_READY_TIMEOUT_MS = 240_000;
/** ceph-authtool, monmaptool, ceph-conf: local file work in milliseconds. */
const TOOL_TIMEOUT_MS = 30_000;
/** A daemon's mkfs (bluestore formats its block file) or its fork into the background. */
const DAEMON_STEP_TIMEOUT_MS = 120_000;
/** One ceph CLI call to a live monitor: ~0.3 s (Python start-up) here. */
const CEPH_CALL_TIMEOUT_MS = 30_000;
/** How long one readiness probe waits for a monitor before giving up (ceph --connect-timeout, in s). */
const PROBE_CONNECT_TIMEOUT_S = 5;
const POLL_INTERVAL_MS = 250;
/** Daemons exit 1-3 s after SIGTERM; after this they are killed. */
const STOP_GRACE_MS = 15_000;
/** Fresh ports when another process took one between choosing and the monitor binding it. */
const PORT_CLASH_ATTEMPTS = 3;
/** The longest admin socket name in DIR/run (a deeper DIR reaches it through a short alias). */
const LONGEST_ADMIN_SOCKET = 'osd.99.asok';
const CLUSTER_FILE = 'cluster.json';
const DAEMON_BINARIES = ['ceph-mon', 'ceph-mgr', 'ceph-osd'];

export async function startCephCluster(options: CephClusterOptions): Promise<CephCluster> {
  const dir = options.dir;
  if (!path.isAbsolute(dir)) throw new Error(`ceph cluster: dir must be absolute, got ${JSON.stringify(dir)}`);
  const osds = options.osds ?? 1;
  if (!Number.isInteger(osds) || osds < 0 || osds > MAX_OSDS) throw new Error(`ceph cluster: osds must be an integer from 0 to ${MAX_OSDS}, got ${osds}`);
  prepareDir(dir);
  const deadline = Date.now() + (options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  for (let attempt = 1; ; attempt += 1) {
    const monPorts = options.monPorts ?? (await freeMonPorts());
    const cluster = await writeCluster(dir, monPorts, options.objectStore ?? 'bluestore', options.osdSizeBytes);
    try {
      await startMonitor(cluster, deadline);
      await startManager(cluster);
      await Promise.all(Array.from({ length: osds }, () => startOsd(cluster)));
      await waitUntil(cluster, deadline, 'the manager to be available', async () => parseJson(await ceph(cluster, ['mgr', 'stat'])).available === true);
      await waitUntil(cluster, deadline, `${osds} OSDs up`, async () => parseJson(await ceph(cluster, ['osd', 'stat'])).num_up_osds === osds);
      // Until the manager has the OSDs' statistics, ceph status and ceph df report 0 bytes in
      // total (and fullness checks would divide by it): ready means the capacity is known.
      if (osds > 0) await waitUntil(cluster, deadline, 'the capacity to be reported', async () => capacityBytes(await ceph(cluster, ['status'])) > 0);
      return cluster;
    } catch (error) {
      await cluster.stop();
      const clash = tail(path.join(dir, 'log', 'mon.a.log')).includes('Address already in use');
      if (!clash || options.monPorts !== undefined || attempt >= PORT_CLASH_ATTEMPTS) throw error;
      prepareDir(dir);
    }
  }
}

/** The cluster another process started in `dir` (from its cluster.json), or null when there is none. */
export function readCephCluster(dir: string): CephCluster | null {
  try {
    const file = JSON.parse(readFileSync(path.join(dir, CLUSTER_FILE), 'utf8')) as ClusterFile;
    return clusterOf(dir, file);
  } catch {
    return null;
  }
}

export interface StopUnderOptions {
  /** How many folder levels below root to look; default 3. */
  maxDepth?: number;
  /** Also delete the stopped clusters' OSD block files (the bulk of their disk use); logs stay. */
  dropData?: boolean;
}

/**
 * Stops every Ceph cluster found under `root` (folders holding a cluster.json and a ceph.conf, up
 * to maxDepth levels down): the safety net for clusters whose test or script died before
 * stopping them. Returns the folders where a daemon was running.
 */
export async function stopCephClustersUnder(root: string, options: StopUnderOptions = {}): Promise<string[]> {
  const maxDepth = options.maxDepth ?? 3;
  const found = findFoldersUnder(root, maxDepth, (entries) => entries.includes(CLUSTER_FILE) && entries.includes('ceph.conf'));
  const stopped: string[] = [];
  for (const dir of found) {
    if (runningDaemons(dir).length > 0) stopped.push(dir);
    await stopDaemons(dir);
    if (options.dropData) dropOsdBlocks(dir);
  }
  return stopped;
}

function clusterOf(dir: string, file: ClusterFile): CephCluster {
  const confPath = path.join(dir, 'ceph.conf');
  return {
    dir,
    confPath,
    adminKeyringPath: path.join(dir, 'keyrings', 'client.admin.keyring'),
    fsid: file.fsid,
    monHost: file.monHost,
    monPorts: file.monPorts,
    env: { CEPH_CONF: confPath },
    stop: () => stopDaemons(dir),
  };
}

/** Refuses a folder with live daemons or foreign files; wipes an earlier (stopped) cluster. */
function prepareDir(dir: string): void {
  const live = runningDaemons(dir);
  if (live.length > 0) throw new Error(`ceph cluster: daemons already run in ${dir} (pids ${live.map((d) => d.pid).join(', ')}); stop them first`);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(path.join(dir, CLUSTER_FILE))) throw new Error(`ceph cluster: ${dir} is not empty and holds no earlier cluster; refusing to wipe it`);
    rmSync(dir, { recursive: true, force: true });
  }
  for (const sub of ['run', 'log', 'keyrings', 'crash', 'mon.a', 'mgr.x']) mkdirSync(path.join(dir, sub), { recursive: true });
}

async function freeMonPorts(): Promise<MonPorts> {
  const [v2, v1] = await findFreePorts(2);
  return { v2: v2 as number, v1: v1 as number };
}

async function writeCluster(dir: string, monPorts: MonPorts, objectStore: ObjectStore, osdSizeBytes: number | undefined): Promise<CephCluster> {
  const file: ClusterFile = { fsid: randomUUID(), monHost: `[v2:127.0.0.1:${monPorts.v2},v1:127.0.0.1:${monPorts.v1}]`, monPorts };
  const cluster = clusterOf(dir, file);
  const socketDir = linkSocketDir(path.join(dir, 'run'), LONGEST_ADMIN_SOCKET);
  const conf = renderTemplate('ceph/single-host.conf', { dir, socketDir, fsid: file.fsid, monHost: file.monHost, objectStore, osdSizeBytes: osdSizeBytes ?? DEFAULT_OSD_SIZE_BYTES[objectStore] });
  writeFileSync(cluster.confPath, conf);
  // Written first: it marks the folder as a cluster, for stopCephClustersUnder and a later wipe.
  writeFileSync(path.join(dir, CLUSTER_FILE), `${JSON.stringify(file, null, 2)}\n`);
  const keyrings = path.join(dir, 'keyrings');
  const monKeyring = path.join(keyrings, 'mon..keyring');
  const initKeyring = path.join(dir, 'mon-init.keyring');
  await tool('ceph-authtool', ['--create-keyring', monKeyring, '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
  await tool('ceph-authtool', ['--create-keyring', cluster.adminKeyringPath, '--gen-key', '-n', 'client.admin', '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mds', 'allow *', '--cap', 'mgr', 'allow *']);
  writeFileSync(initKeyring, readFileSync(monKeyring));
  await tool('ceph-authtool', [initKeyring, '--import-keyring', cluster.adminKeyringPath]);
  writeFileSync(path.join(keyrings, 'mon.a.keyring'), readFileSync(initKeyring));
  const monmap = path.join(dir, 'monmap');
  await tool('monmaptool', ['--create', '--addv', 'a', file.monHost, '--fsid', file.fsid, monmap]);
  return cluster;
}

async function startMonitor(cluster: CephCluster, deadline: number): Promise<void> {
  const conf = cluster.confPath;
  await run('ceph-mon', ['--conf', conf, '--mkfs', '-i', 'a', '--monmap', path.join(cluster.dir, 'monmap'), '--keyring', path.join(cluster.dir, 'mon-init.keyring')], { timeoutMs: DAEMON_STEP_TIMEOUT_MS });
  await run('ceph-mon', ['--conf', conf, '-i', 'a'], { timeoutMs: DAEMON_STEP_TIMEOUT_MS });
  await waitUntil(cluster, deadline, 'the monitor to form a quorum', async () => {
    const status = parseJson(await ceph(cluster, ['status'], { connectTimeoutS: PROBE_CONNECT_TIMEOUT_S }));
    return Array.isArray(status.quorum_names) && status.quorum_names.length === 1;
  });
}

async function startManager(cluster: CephCluster): Promise<void> {
  const keyring = path.join(cluster.dir, 'keyrings', 'mgr.x.keyring');
  await ceph(cluster, ['auth', 'get-or-create', 'mgr.x', 'mon', 'allow profile mgr', 'osd', 'allow *', 'mds', 'allow *', '-o', keyring], { plain: true });
  await run('ceph-mgr', ['--conf', cluster.confPath, '-i', 'x'], { timeoutMs: DAEMON_STEP_TIMEOUT_MS });
}

async function startOsd(cluster: CephCluster): Promise<void> {
  const uuid = randomUUID();
  const id = (await ceph(cluster, ['osd', 'new', uuid], { plain: true })).trim();
  if (!/^\d+$/.test(id)) throw new Error(`ceph cluster: ceph osd new answered ${JSON.stringify(id)}, not an OSD id`);
  mkdirSync(path.join(cluster.dir, `osd.${id}`), { recursive: true });
  const keyring = path.join(cluster.dir, 'keyrings', `osd.${id}.keyring`);
  await ceph(cluster, ['auth', 'get-or-create', `osd.${id}`, 'mon', 'allow profile osd', 'mgr', 'allow profile osd', 'osd', 'allow *', '-o', keyring], { plain: true });
  await run('ceph-osd', ['--conf', cluster.confPath, '-i', id, '--mkfs', '--osd-uuid', uuid], { timeoutMs: DAEMON_STEP_TIMEOUT_MS });
  await run('ceph-osd', ['--conf', cluster.confPath, '-i', id], { timeoutMs: DAEMON_STEP_TIMEOUT_MS });
}

/**
 * One ceph CLI call as client.admin, JSON output unless `plain` (keyrings written with -o must stay
 * in keyring format); connectTimeoutS bounds the wait for a monitor.
 */
async function ceph(cluster: CephCluster, args: string[], options: { connectTimeoutS?: number; plain?: boolean } = {}): Promise<string> {
  const connect = options.connectTimeoutS === undefined ? [] : ['--connect-timeout', String(options.connectTimeoutS)];
  const format = options.plain ? [] : ['--format', 'json'];
  const result = await run('ceph', ['--conf', cluster.confPath, ...connect, ...format, ...args], { timeoutMs: CEPH_CALL_TIMEOUT_MS });
  return result.stdout;
}

async function tool(file: string, args: string[]): Promise<void> {
  await run(file, args, { timeoutMs: TOOL_TIMEOUT_MS });
}

async function waitUntil(cluster: CephCluster, deadline: number, what: string, probe: () => Promise<boolean>): Promise<void> {
  let last = '';
  for (;;) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      const logs = ['mon.a', 'mgr.x'].map((name) => `--- ${name}.log:\n${tail(path.join(cluster.dir, 'log', `${name}.log`))}`).join('\n');
      throw new Error(`ceph cluster in ${cluster.dir}: timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}\n${logs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

function capacityBytes(statusJson: string): number {
  const pgmap = parseJson(statusJson).pgmap as { bytes_total?: unknown } | undefined;
  return typeof pgmap?.bytes_total === 'number' ? pgmap.bytes_total : 0;
}

function parseJson(text: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null) throw new Error(`ceph cluster: expected a JSON object, got ${text.slice(0, 200)}`);
  return value as Record<string, unknown>;
}

interface Daemon {
  pid: number;
  binary: string;
}

/** Live daemons of the cluster in `dir`: pid files under run/ whose process runs with this ceph.conf. */
function runningDaemons(dir: string): Daemon[] {
  const runDir = path.join(dir, 'run');
  const confPath = path.join(dir, 'ceph.conf');
  const files = safe(() => readdirSync(runDir).filter((f) => f.endsWith('.pid')), []);
  const daemons: Daemon[] = [];
  for (const file of files) {
    const pid = Number(safe(() => readFileSync(path.join(runDir, file), 'utf8').trim(), ''));
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) continue;
    const args = safe(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'), []);
    const binary = path.basename(args[0] ?? '');
    if (DAEMON_BINARIES.includes(binary) && args.includes(confPath)) daemons.push({ pid, binary });
  }
  return daemons;
}

/** OSDs and the manager first, the monitor last (the others report to it as they go). */
async function stopDaemons(dir: string): Promise<void> {
  const daemons = runningDaemons(dir);
  await Promise.all(daemons.filter((d) => d.binary !== 'ceph-mon').map((d) => terminate(d.pid)));
  await Promise.all(daemons.filter((d) => d.binary === 'ceph-mon').map((d) => terminate(d.pid)));
  unlinkSocketDir(path.join(dir, 'run'), LONGEST_ADMIN_SOCKET);
}

/** The bluestore block files of a stopped cluster's OSDs (sparse, but they fill as data is written). */
function dropOsdBlocks(dir: string): void {
  for (const entry of safe(() => readdirSync(dir), [])) {
    const block = path.join(dir, entry, 'block');
    if (/^osd\.\d+$/.test(entry) && statSync(block, { throwIfNoEntry: false })?.isFile()) rmSync(block, { force: true });
  }
}

async function terminate(pid: number): Promise<void> {
  signalIfAlive(pid, 'SIGTERM');
  if (await waitGone(pid, STOP_GRACE_MS)) return;
  signalIfAlive(pid, 'SIGKILL');
  if (!(await waitGone(pid, STOP_GRACE_MS))) throw new Error(`ceph cluster: pid ${pid} survived SIGKILL for ${STOP_GRACE_MS} ms`);
}

function safe<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

function tail(file: string, chars = 3_000): string {
  return safe(() => readFileSync(file, 'utf8').slice(-chars), '(no log)');
}
