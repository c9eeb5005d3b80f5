// Starts and stops a ZooKeeper ensemble on loopback from Debian's `zookeeper` package, for the
// test setup and the local dev cluster (scripts/cluster-up.ts). QuorumPeerMain is run directly:
// zkServer.sh hardcodes /etc/zookeeper/conf and /var/log/zookeeper. Each server gets its own
// folder DIR/zk<id> holding zoo.cfg, data/ (with myid), zk.log and zk.pid; the ensemble's
// ports and hosts string are written to DIR/ensemble.json for other processes (cluster-down).
//
// Readiness is polled (`srvr` shows a Mode: line), never waited for with a fixed sleep.
import { existsSync, mkdirSync, openSync, readSync, closeSync, fstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnBackground } from '../../common/exec.ts';
import { renderTemplate } from '../../common/templates.ts';
import { fourLetterWord, parseServerMode, type ServerMode } from '../../common/zk/four-letter.ts';
import { findFreePorts } from './ports.ts';

export type EnsembleSize = 1 | 3 | 5;

export interface EnsembleOptions {
  /** Absolute folder for the ensemble; created when missing. */
  dir: string;
  size: EnsembleSize;
  /** ZooKeeper's tick: heartbeats, failover speed and session timeout bounds. 500 suits tests. */
  tickTimeMs?: number;
  /** A detached ensemble outlives this process (the local dev cluster); otherwise it dies with it. */
  detached: boolean;
  /** How long every server may take to serve requests; generous, since the machine is shared. */
  readyTimeoutMs?: number;
}

export interface EnsembleServer {
  readonly id: number;
  readonly clientPort: number;
  readonly quorumPort: number;
  readonly electionPort: number;
  /** The server's own folder: zoo.cfg, data/, zk.log, zk.pid. */
  readonly dir: string;
  /** The current JVM's PID; changes on restartServer. */
  pid: number;
}

export type StopSignal = 'SIGKILL' | 'SIGTERM' | 'SIGINT';

export interface Ensemble {
  /** The connection string: 127.0.0.1:p1,127.0.0.1:p2,... */
  readonly hosts: string;
  readonly dir: string;
  readonly servers: readonly EnsembleServer[];
  /** Resolves when every server serves requests (leader/follower, or standalone for size 1). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The id of the server that reports itself leader now, or null when none does. */
  leaderId(): Promise<number | null>;
  /** What one server reports, or null when it does not answer or does not serve. */
  serverMode(id: number): Promise<ServerMode | null>;
  /** Signals one server and resolves once its PID is gone. */
  killServer(id: number, signal?: StopSignal): Promise<void>;
  /** Starts a stopped server again with the same folder and ports; resolves when it serves. */
  restartServer(id: number): Promise<void>;
  /** SIGTERM to every server, SIGKILL to those still alive after STOP_GRACE_MS; idempotent. */
  stop(): Promise<void>;
}

const JAVA = 'java';
const CLASSPATH = ['/usr/share/java/zookeeper.jar', '/usr/share/java/slf4j-log4j12.jar', '/usr/share/java/log4j-1.2.jar'].join(':');
const LOG4J_CONFIG = '/etc/zookeeper/conf/log4j.properties';
const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

const DEFAULT_TICK_TIME_MS = 500;
/** Measured 1.6-1.9 s to quorum, 5.1 s under contention: a minute is far past any healthy start. */
const DEFAULT_READY_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 50;
/** One srvr exchange on loopback takes milliseconds; this only bounds a wedged server. */
const FOUR_LETTER_TIMEOUT_MS = 2_000;
/** ZooKeeper exits within 1-2 s of SIGTERM; a stop waits this long before SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** A SIGKILLed process is gone within milliseconds, unless the machine is badly overloaded. */
const KILL_WAIT_MS = 30_000;
/** Starting again with fresh ports, when another process took one between choosing and binding. */
const PORT_CLASH_ATTEMPTS = 3;
const LOG_TAIL_BYTES = 4_096;

export async function startEnsemble(options: EnsembleOptions): Promise<Ensemble> {
  if (![1, 3, 5].includes(options.size)) throw new Error(`startEnsemble: size must be 1, 3 or 5, got ${options.size}`);
  if (!path.isAbsolute(options.dir)) throw new Error(`startEnsemble: dir must be absolute, got ${JSON.stringify(options.dir)}`);
  refuseIfRunning(options.dir);
  for (let attempt = 1; ; attempt += 1) {
    const ensemble = await launch(options);
    try {
      await ensemble.waitReady(options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
      return ensemble;
    } catch (error) {
      await ensemble.stop();
      const clash = ensemble.servers.some((server) => logTail(server.dir).includes('Address already in use'));
      if (!clash || attempt >= PORT_CLASH_ATTEMPTS) throw error;
    }
  }
}

async function launch(options: EnsembleOptions): Promise<Ensemble> {
  const ports = await findFreePorts(options.size * 3);
  const servers: EnsembleServer[] = [];
  for (let i = 0; i < options.size; i += 1) {
    const at = (k: number): number => ports[i * 3 + k] as number;
    servers.push({ id: i + 1, clientPort: at(0), quorumPort: at(1), electionPort: at(2), dir: path.join(options.dir, `zk${i + 1}`), pid: 0 });
  }
  const hosts = servers.map((s) => `127.0.0.1:${s.clientPort}`).join(',');
  mkdirSync(options.dir, { recursive: true });
  for (const server of servers) writeServerFiles(server, servers, options.tickTimeMs ?? DEFAULT_TICK_TIME_MS);
  writeFileSync(path.join(options.dir, 'ensemble.json'), `${JSON.stringify({ hosts, servers: servers.map(({ pid: _pid, ...rest }) => rest) }, null, 2)}\n`);

  const ensemble = new LocalEnsemble(options.dir, hosts, servers, options.size === 1 ? ['standalone'] : ['leader', 'follower'], options.detached);
  try {
    for (const server of servers) ensemble.spawn(server);
  } catch (error) {
    await ensemble.stop();
    throw error;
  }
  return ensemble;
}

function writeServerFiles(server: EnsembleServer, all: readonly EnsembleServer[], tickTimeMs: number): void {
  const dataDir = path.join(server.dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const quorum = all.length > 1;
  // A standalone server has no myid and no server.N lines.
  if (quorum) writeFileSync(path.join(dataDir, 'myid'), `${server.id}\n`);
  const config = renderTemplate('zoo.cfg', {
    tickTimeMs,
    initLimit: 10,
    syncLimit: 5,
    dataDir,
    clientPort: server.clientPort,
    clientPortAddress: '127.0.0.1',
    minSessionTimeoutMs: 1_000,
    maxSessionTimeoutMs: 30_000,
    servers: quorum ? all.map((s) => ({ id: s.id, host: '127.0.0.1', quorumPort: s.quorumPort, electionPort: s.electionPort })) : [],
  });
  writeFileSync(path.join(server.dir, 'zoo.cfg'), config);
}

class LocalEnsemble implements Ensemble {
  private stopped = false;

  constructor(
    readonly dir: string,
    readonly hosts: string,
    readonly servers: EnsembleServer[],
    private readonly readyModes: readonly ServerMode[],
    private readonly detached: boolean,
  ) {}

  spawn(server: EnsembleServer): void {
    const args = [
      '-Xms32m',
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Dzookeeper.log.dir=${server.dir}`,
      '-Dzookeeper.root.logger=INFO,CONSOLE',
      `-Dlog4j.configuration=file:${LOG4J_CONFIG}`,
      '-cp',
      CLASSPATH,
      MAIN_CLASS,
      configPath(server),
    ];
    server.pid = spawnBackground(JAVA, args, { logFile: path.join(server.dir, 'zk.log'), detached: this.detached, cwd: server.dir });
    writeFileSync(path.join(server.dir, 'zk.pid'), `${server.pid}\n`);
  }

  async waitReady(timeoutMs = DEFAULT_READY_TIMEOUT_MS): Promise<void> {
    await Promise.all(this.servers.map((server) => this.waitServerReady(server, timeoutMs)));
  }

  async leaderId(): Promise<number | null> {
    const modes = await Promise.all(this.servers.map(async (s) => ({ id: s.id, mode: await this.serverMode(s.id) })));
    return modes.find((m) => m.mode === 'leader' || m.mode === 'standalone')?.id ?? null;
  }

  async serverMode(id: number): Promise<ServerMode | null> {
    const server = this.server(id);
    try {
      return parseServerMode(await fourLetterWord('127.0.0.1', server.clientPort, 'srvr', FOUR_LETTER_TIMEOUT_MS));
    } catch {
      return null;
    }
  }

  async killServer(id: number, signal: StopSignal = 'SIGKILL'): Promise<void> {
    const server = this.server(id);
    if (!isServerProcess(server.pid, server.dir)) return;
    process.kill(server.pid, signal);
    if (!(await waitGone(server.pid, KILL_WAIT_MS))) {
      throw new Error(`zookeeper server ${id} (pid ${server.pid}) is still running ${KILL_WAIT_MS} ms after ${signal}`);
    }
  }

  async restartServer(id: number): Promise<void> {
    const server = this.server(id);
    if (isServerProcess(server.pid, server.dir)) throw new Error(`zookeeper server ${id} (pid ${server.pid}) is still running; kill it before restarting it`);
    this.stopped = false;
    this.spawn(server);
    await this.waitServerReady(server, DEFAULT_READY_TIMEOUT_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.servers.map((server) => stopServer(server.pid, server.dir)));
  }

  private server(id: number): EnsembleServer {
    const server = this.servers.find((s) => s.id === id);
    if (!server) throw new Error(`no zookeeper server ${id} in the ensemble at ${this.dir}`);
    return server;
  }

  private async waitServerReady(server: EnsembleServer, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: string;
    for (;;) {
      if (this.stopped) throw new Error(`zookeeper ensemble at ${this.dir} was stopped while waiting for server ${server.id}`);
      if (!isServerProcess(server.pid, server.dir)) {
        throw new Error(`zookeeper server ${server.id} (pid ${server.pid}, client port ${server.clientPort}) exited before serving; end of ${logPath(server.dir)}:\n${logTail(server.dir)}`);
      }
      try {
        const answer = await fourLetterWord('127.0.0.1', server.clientPort, 'srvr', FOUR_LETTER_TIMEOUT_MS);
        const mode = parseServerMode(answer);
        if (mode && this.readyModes.includes(mode)) return;
        last = answer.trim().split('\n')[0] ?? '(empty answer)';
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() >= deadline) {
        throw new Error(
          `zookeeper server ${server.id} (pid ${server.pid}, client port ${server.clientPort}) did not serve within ${timeoutMs} ms (last srvr: ${last}); end of ${logPath(server.dir)}:\n${logTail(server.dir)}`,
        );
      }
      await delay(POLL_INTERVAL_MS);
    }
  }
}

/**
 * Stops the servers of an ensemble started (possibly by another process) in `dir`, from their
 * zk.pid files. A PID is signalled only while its command line is this folder's QuorumPeerMain,
 * so a PID reused by an unrelated process is left alone. Returns the PIDs it stopped.
 */
export async function stopEnsembleDir(dir: string): Promise<number[]> {
  const stopped: number[] = [];
  await Promise.all(
    serverDirs(dir).map(async (serverDir) => {
      const pid = readPid(serverDir);
      if (pid === null || !isServerProcess(pid, serverDir)) return;
      await stopServer(pid, serverDir);
      stopped.push(pid);
    }),
  );
  return stopped;
}

/** The hosts string of the ensemble recorded in `dir`, or null when there is none. */
export function readEnsembleHosts(dir: string): string | null {
  try {
    const info = JSON.parse(readFileSync(path.join(dir, 'ensemble.json'), 'utf8')) as { hosts?: unknown };
    return typeof info.hosts === 'string' ? info.hosts : null;
  } catch {
    return null;
  }
}

function refuseIfRunning(dir: string): void {
  for (const serverDir of serverDirs(dir)) {
    const pid = readPid(serverDir);
    if (pid !== null && isServerProcess(pid, serverDir)) {
      throw new Error(`a zookeeper server (pid ${pid}) is already running in ${serverDir}; stop it first (stopEnsembleDir)`);
    }
  }
}

async function stopServer(pid: number, serverDir: string): Promise<void> {
  if (pid <= 0 || !isServerProcess(pid, serverDir)) return;
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, STOP_GRACE_MS)) return;
  if (isServerProcess(pid, serverDir)) signal(pid, 'SIGKILL');
  if (!(await waitGone(pid, KILL_WAIT_MS))) throw new Error(`zookeeper server pid ${pid} in ${serverDir} survived SIGKILL for ${KILL_WAIT_MS} ms`);
}

function signal(pid: number, name: StopSignal): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function serverDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^zk\d+$/.test(name))
    .map((name) => path.join(dir, name));
}

function readPid(serverDir: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(serverDir, 'zk.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function configPath(server: { dir: string }): string {
  return path.join(server.dir, 'zoo.cfg');
}

function logPath(serverDir: string): string {
  return path.join(serverDir, 'zk.log');
}

/** True while `pid` is a live (not zombie) QuorumPeerMain started with serverDir's zoo.cfg. */
function isServerProcess(pid: number, serverDir: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(MAIN_CLASS) && argv.includes(configPath({ dir: serverDir }));
  } catch {
    return false;
  }
}

/**
 * A zombie counts as gone: PID 1 on this machine is no init system and reaps orphans late, so a
 * detached server stopped by another process lingers as <defunct> after it has exited.
 */
function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(POLL_INTERVAL_MS);
  }
  return true;
}

function logTail(serverDir: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(logPath(serverDir), 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } catch {
    return '(no log)';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
