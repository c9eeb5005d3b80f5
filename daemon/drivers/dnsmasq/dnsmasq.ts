// The real DHCP adapter: one `dnsmasq -k` per network, in the node's network namespace when one
// is configured, each with its files under <stateDir>/dnsmasq/<network>/. Lease events arrive as
// files in the instance's spool folder (lease-hook.sh); fs.watch on those folders rings the bell.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../../common/templates.ts';
import type { DhcpLease } from '../../../common/zk/schema.ts';
import { commandLineOf, isRunning, sendSignal, startService, stopService, waitUntilReady } from '../service-process.ts';
import { DhcpError, type DhcpDriver, type DhcpInstanceState, type SpooledLeaseEvent } from './port.ts';
import { leaseFileText, type DnsmasqPaths } from './render.ts';

export const LEASE_HOOK_SCRIPT = path.join(REPO_ROOT, 'daemon/drivers/dnsmasq/lease-hook.sh');
/** dnsmasq binds its sockets and writes its PID file in milliseconds; a busy machine gets this long. */
export const DNSMASQ_START_TIMEOUT_MS = 5_000;
/** dnsmasq exits on SIGTERM at once; SIGKILL after this (its lease file is written on every change). */
export const DNSMASQ_TERM_GRACE_MS = 100;
export const DNSMASQ_KILL_WAIT_MS = 1_000;
/** Spool files are `<nanoseconds>.<pid>`; anything else there is the hook's temporary file. */
const EVENT_FILE = /^\d{19}\.\d+$/;

export interface DnsmasqDriverOptions {
  /** Holds dnsmasq/<network>/ for every network. */
  stateDir: string;
  netns: string | null;
  binary?: string;
}

interface Instance {
  pid: number;
  configText: string;
}

export class DnsmasqDriver implements DhcpDriver {
  private readonly instancesByNetwork = new Map<string, Instance>();
  private closed = true;
  private readonly root: string;

  constructor(private readonly options: DnsmasqDriverOptions) {
    this.root = path.join(options.stateDir, 'dnsmasq');
  }

  pathsOf(network: string): DnsmasqPaths {
    const dir = path.join(this.root, network);
    return {
      dir,
      configFile: path.join(dir, 'dnsmasq.conf'),
      pidFile: path.join(dir, 'dnsmasq.pid'),
      logFile: path.join(dir, 'dnsmasq.log'),
      leaseFile: path.join(dir, 'leases'),
      hookScript: LEASE_HOOK_SCRIPT,
      hostsDir: path.join(dir, 'hosts'),
      spoolDir: path.join(dir, 'spool'),
    };
  }

  open(): void {
    this.closed = false;
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.instancesByNetwork.keys()].map((network) => this.stop(network)));
  }

  async instances(): Promise<DhcpInstanceState[]> {
    return [...this.instancesByNetwork].map(([network, instance]) => ({
      network,
      configText: instance.configText,
      running: isRunning(instance.pid),
      reservations: this.readReservations(network),
    }));
  }

  async start(network: string, configText: string, reservations: ReadonlyMap<string, string>, seed: readonly DhcpLease[] | null): Promise<void> {
    if (this.closed) throw new DhcpError('closed', network, 'refused to start: this node is not serving as primary');
    await this.stop(network);
    await this.killLeftover(network);
    const paths = this.pathsOf(network);
    try {
      for (const dir of [paths.dir, paths.hostsDir, paths.spoolDir]) mkdirSync(dir, { recursive: true });
      writeAtomically(paths.configFile, configText);
      this.writeReservations(network, reservations);
      if (seed !== null) writeAtomically(paths.leaseFile, leaseFileText(seed));
      rmSync(paths.pidFile, { force: true });
    } catch (error) {
      throw new DhcpError('io', network, `cannot write its files under ${paths.dir}: ${(error as Error).message}`, { cause: error });
    }
    // No await between the fence check and recording the PID: closeAll() sees every process.
    if (this.closed) throw new DhcpError('closed', network, 'refused to start: this node is not serving as primary');
    const stdout = path.join(paths.dir, 'dnsmasq.stdout');
    const pid = startService({
      file: this.options.binary ?? 'dnsmasq',
      args: ['-k', '-C', paths.configFile],
      netns: this.options.netns,
      env: { PVC_DHCP_SPOOL: paths.spoolDir },
      logFile: stdout,
    });
    this.instancesByNetwork.set(network, { pid, configText });
    const ready = await waitUntilReady(pid, () => readPid(paths.pidFile) === pid, DNSMASQ_START_TIMEOUT_MS);
    if (ready) return;
    if (this.closed) throw new DhcpError('closed', network, 'stopped while starting: this node is no longer serving as primary');
    const running = isRunning(pid);
    await this.stop(network);
    const said = lastLines(stdout);
    throw new DhcpError(running ? 'timeout' : 'failed', network, running ? `dnsmasq did not start within ${DNSMASQ_START_TIMEOUT_MS} ms` : `dnsmasq exited at start: ${said}`);
  }

  async stop(network: string): Promise<void> {
    const instance = this.instancesByNetwork.get(network);
    if (!instance) return;
    const gone = await stopService(instance.pid, DNSMASQ_TERM_GRACE_MS, DNSMASQ_KILL_WAIT_MS);
    if (!gone) throw new DhcpError('timeout', network, `dnsmasq (pid ${instance.pid}) did not exit after SIGKILL`);
    this.instancesByNetwork.delete(network);
  }

  async syncReservations(network: string, reservations: ReadonlyMap<string, string>): Promise<'unchanged' | 'added' | 'reloaded'> {
    const present = this.readReservations(network);
    let outcome: 'unchanged' | 'added' | 'reloaded' = 'unchanged';
    for (const [file, content] of reservations) {
      if (present.get(file) === content) continue;
      if (present.has(file)) outcome = 'reloaded';
      else if (outcome === 'unchanged') outcome = 'added';
    }
    if ([...present.keys()].some((file) => !reservations.has(file))) outcome = 'reloaded';
    if (outcome === 'unchanged') return outcome;
    this.writeReservations(network, reservations);
    const instance = this.instancesByNetwork.get(network);
    if (outcome === 'reloaded' && instance) sendSignal(instance.pid, 'SIGHUP');
    return outcome;
  }

  async pendingEvents(): Promise<SpooledLeaseEvent[]> {
    const events: SpooledLeaseEvent[] = [];
    for (const network of listDir(this.root)) {
      const spool = this.pathsOf(network).spoolDir;
      for (const id of listDir(spool).filter((f) => EVENT_FILE.test(f)).sort()) {
        try {
          events.push({ network, id, text: readFileSync(path.join(spool, id), 'utf8') });
        } catch {
          // removed meanwhile
        }
      }
    }
    return events;
  }

  async removeEvent(network: string, id: string): Promise<void> {
    if (!EVENT_FILE.test(id)) throw new DhcpError('io', network, `not a lease event id: ${JSON.stringify(id)}`);
    rmSync(path.join(this.pathsOf(network).spoolDir, id), { force: true });
  }

  watchEvents(onEvent: () => void): () => void {
    const watchers = new Map<string, FSWatcher>();
    // Spool folders appear as instances start: look for new ones whenever the root changes.
    const scan = (): void => {
      for (const network of listDir(this.root)) {
        const spool = this.pathsOf(network).spoolDir;
        if (watchers.has(spool) || !existsSync(spool)) continue;
        try {
          watchers.set(spool, watch(spool, () => onEvent()));
        } catch {
          // gone again; the next scan or the caller's resync covers it
        }
      }
    };
    mkdirSync(this.root, { recursive: true });
    const rootWatcher = watch(this.root, () => {
      scan();
      onEvent();
    });
    const timer = setInterval(scan, 1_000);
    timer.unref();
    scan();
    return () => {
      clearInterval(timer);
      rootWatcher.close();
      for (const watcher of watchers.values()) watcher.close();
    };
  }

  private readReservations(network: string): Map<string, string> {
    const dir = this.pathsOf(network).hostsDir;
    const files = new Map<string, string>();
    for (const file of listDir(dir)) {
      try {
        files.set(file, readFileSync(path.join(dir, file), 'utf8'));
      } catch {
        // removed meanwhile
      }
    }
    return files;
  }

  /** Plain writes, not renames: dnsmasq's inotify reads a hostsdir file when it is closed after writing. */
  private writeReservations(network: string, reservations: ReadonlyMap<string, string>): void {
    const dir = this.pathsOf(network).hostsDir;
    mkdirSync(dir, { recursive: true });
    const present = this.readReservations(network);
    for (const file of present.keys()) if (!reservations.has(file)) rmSync(path.join(dir, file), { force: true });
    for (const [file, content] of reservations) if (present.get(file) !== content) writeFileSync(path.join(dir, file), content);
  }

  /** A dnsmasq of this network from an earlier pvcd (its PID file names it, its command line our config). */
  private async killLeftover(network: string): Promise<void> {
    const paths = this.pathsOf(network);
    const pid = readPid(paths.pidFile);
    if (pid === null || !commandLineOf(pid)?.includes(paths.configFile)) return;
    await stopService(pid, DNSMASQ_TERM_GRACE_MS, DNSMASQ_KILL_WAIT_MS);
  }
}

function readPid(file: string): number | null {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function writeAtomically(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

function lastLines(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' / ') || '(no output)';
  } catch {
    return '(no output)';
  }
}
