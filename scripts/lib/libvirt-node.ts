// Starts and stops one libvirtd "node" on this machine (notes §12): libvirtd and its virtlogd in
// a private mount + UTS namespace, so that several nodes run side by side, each with its own
// /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt
// (bind-mounted from DIR/{etc,run,lib,cache,log}), its own hostname and a distinct host_uuid
// (this machine has no SMBIOS, and migration refuses two hosts with the same UUID).
//
// Clients reach a node through its socket, DIR/run/libvirt-sock (or a short alias of DIR/run
// for deep folders), with the URI this returns.
// The daemons fork into the background (they are not children of this process) and write pid
// files under DIR/run; stopping signals those PIDs only while they are still this node's daemons.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../common/exec.ts';
import { linkSocketDir, socketDirFor, unlinkSocketDir } from '../../common/unix-socket-dir.ts';
import { isAlive, waitGone } from './pvcd-process.ts';
import { findFoldersUnder } from './find-folders.ts';

export interface LibvirtNodeOptions {
  /** Absolute folder of this node; created when missing, reused (config kept) when present. */
  dir: string;
  /** Hostname inside the node's UTS namespace. */
  name: string;
  /** Distinct per node: libvirt refuses to migrate to a host with its own UUID. */
  hostUuid: string;
  /**
   * qemu.conf migration_host. libvirtd refuses a loopback address here, so it is any
   * non-loopback name; each migration passes --migrateuri tcp://127.0.0.1:PORT instead.
   */
  migrationHost?: string;
  readyTimeoutMs?: number;
}

export interface LibvirtNode {
  readonly name: string;
  readonly dir: string;
  /** qemu+unix:///system?socket=DIR/run/libvirt-sock */
  readonly uri: string;
  readonly libvirtdPid: number;
  readonly virtlogdPid: number;
  readonly logPath: string;
  /** Destroys leftover domains, then stops libvirtd, then virtlogd. Idempotent. */
  stop(): Promise<void>;
}

/** First start probes QEMU's capabilities: 7.6 s alone here, more with two nodes on two cores. */
const DEFAULT_READY_TIMEOUT_MS = 120_000;
/** The unshare + start script returns once both daemons have forked: well under a second. */
const START_SCRIPT_TIMEOUT_MS = 30_000;
/** A virsh call to a live local daemon answers in tens of milliseconds; this bounds a wedged one. */
const VIRSH_PROBE_TIMEOUT_MS = 10_000;
/** `virsh destroy` took 1.6 s here; TCG guests on a busy machine may take longer to die. */
const VIRSH_DESTROY_TIMEOUT_MS = 30_000;
const CP_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;
/** libvirtd writes its pid file right after forking; a missing one after this means it exited. */
const PID_FILE_GRACE_MS = 5_000;
/** libvirtd and virtlogd exit within a second of SIGTERM; after this they are killed. */
const STOP_GRACE_MS = 10_000;

const SOCKET = 'libvirt-sock';
/** The longest socket name libvirtd binds in its run folder. */
const LONGEST_SOCKET = 'libvirt-admin-sock';
const DAEMONS = ['libvirtd', 'virtlogd'] as const;
type Daemon = (typeof DAEMONS)[number];

export function nodeUri(dir: string): string {
  return `qemu+unix:///system?socket=${path.join(socketDir(dir), SOCKET)}`;
}

/**
 * Where clients find the node's sockets. Inside the namespace libvirtd binds the short
 * /run/libvirt/...; a client outside connects through DIR/run (or its short alias for deep DIRs).
 */
function socketDir(dir: string): string {
  return socketDirFor(path.join(dir, 'run'), LONGEST_SOCKET);
}

export async function startLibvirtNode(options: LibvirtNodeOptions): Promise<LibvirtNode> {
  const dir = options.dir;
  if (!path.isAbsolute(dir)) throw new Error(`libvirt node: dir must be absolute, got ${JSON.stringify(dir)}`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(options.name)) throw new Error(`libvirt node: bad node name ${JSON.stringify(options.name)}`);
  for (const daemon of DAEMONS) {
    const pid = daemonPid(dir, daemon);
    if (pid !== null) throw new Error(`libvirt node ${options.name}: ${daemon} (pid ${pid}) already runs in ${dir}; stop it first`);
  }
  await prepareFolders(options);
  const script = writeStartScript(options);
  // unshare returns when the script has exec'd libvirtd -d, which forks and exits: the daemons
  // live on in the new namespaces, kept alive by their own processes.
  await run('unshare', ['--mount', '--uts', '--propagation', 'private', '/bin/sh', script], { timeoutMs: START_SCRIPT_TIMEOUT_MS });
  const node = new RunningNode(options.name, dir);
  try {
    await waitReady(node, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
  } catch (error) {
    await node.stop();
    throw error;
  }
  return node;
}

/** Stops the node started (possibly by another process) in `dir`; does nothing when none runs. */
export async function stopLibvirtNodeDir(dir: string): Promise<void> {
  await stopNode(dir);
}

/**
 * Stops every libvirt node found under `root` (folders holding a start.sh and a run/ folder, up
 * to `maxDepth` levels down): the safety net for nodes whose test or script died before stopping
 * them. Only daemons that live in those nodes' namespaces are signalled.
 */
export async function stopLibvirtNodesUnder(root: string, maxDepth = 3): Promise<string[]> {
  const found = findFoldersUnder(root, maxDepth, (entries) => entries.includes('start.sh') && entries.includes('run'));
  const stopped: string[] = [];
  for (const dir of found) {
    if (DAEMONS.some((daemon) => daemonPid(dir, daemon) !== null)) {
      await stopNode(dir);
      stopped.push(dir);
    } else {
      unlinkSocketDir(path.join(dir, 'run'), LONGEST_SOCKET);
    }
  }
  return stopped;
}

class RunningNode implements LibvirtNode {
  readonly uri: string;
  readonly logPath: string;

  constructor(
    readonly name: string,
    readonly dir: string,
  ) {
    this.uri = nodeUri(dir);
    this.logPath = path.join(dir, 'log', 'libvirtd.log');
  }

  get libvirtdPid(): number {
    return daemonPid(this.dir, 'libvirtd') ?? 0;
  }

  get virtlogdPid(): number {
    return daemonPid(this.dir, 'virtlogd') ?? 0;
  }

  stop(): Promise<void> {
    return stopNode(this.dir);
  }
}

async function prepareFolders(options: LibvirtNodeOptions): Promise<void> {
  const dir = options.dir;
  for (const sub of ['run', 'cache', 'log']) mkdirSync(path.join(dir, sub), { recursive: true });
  const etc = path.join(dir, 'etc');
  if (!existsSync(etc)) {
    // cp -a keeps owners and modes of the package's files (some belong to libvirt-qemu).
    await run('cp', ['-a', '/etc/libvirt', etc], { timeoutMs: CP_TIMEOUT_MS });
    // No domains or networks from the host: a node starts empty and never autostarts a network.
    removeMatching(path.join(etc, 'qemu'), (name) => name.endsWith('.xml'));
    removeMatching(path.join(etc, 'qemu', 'networks', 'autostart'), () => true);
  }
  const lib = path.join(dir, 'lib');
  if (!existsSync(lib)) {
    await run('cp', ['-a', '/var/lib/libvirt', lib], { timeoutMs: CP_TIMEOUT_MS });
    removeMatching(path.join(lib, 'qemu'), (name) => name.startsWith('domain-'));
  }
  // Paths as seen inside the namespace, where DIR/log is /var/log/libvirt.
  writeFileSync(path.join(etc, 'libvirtd.conf'), `log_outputs="3:file:/var/log/libvirt/libvirtd.log"\nhost_uuid="${options.hostUuid}"\n`);
  const qemuConf = path.join(etc, 'qemu.conf');
  const current = readFileSync(qemuConf, 'utf8');
  const marker = '# pvc test node';
  if (!current.includes(marker)) {
    // cgroup v1 without systemd: two daemons would create the same machine/qemu-N-name cgroup
    // folders, so the nodes use no cgroup controller at all.
    // QEMU runs as root: libvirt probes QEMU's capabilities as root (who can open /dev/kvm here)
    // but checks the cached probe against the QEMU user's access to /dev/kvm (root-only here);
    // as libvirt-qemu every check fails, and every define re-probes QEMU (~40 s per define).
    const migrationHost = options.migrationHost ?? `${options.name}.invalid`;
    const settings = ['cgroup_controllers = [ ]', `migration_host = "${migrationHost}"`, 'user = "root"', 'group = "root"'];
    writeFileSync(qemuConf, `${current}\n${marker}\n${settings.join('\n')}\n`);
  }
  for (const daemon of DAEMONS) rmSync(pidFile(dir, daemon), { force: true });
  linkSocketDir(path.join(dir, 'run'), LONGEST_SOCKET);
}

function writeStartScript(options: LibvirtNodeOptions): string {
  const d = options.dir;
  const q = shellQuote;
  const lines = [
    '#!/bin/sh',
    '# Written by scripts/lib/libvirt-node.ts; runs inside `unshare --mount --uts --propagation private`.',
    'set -e',
    // Mount points: /run/libvirt only exists once a host libvirtd has run (an empty folder is harmless).
    'mkdir -p /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt',
    `mount --bind ${q(path.join(d, 'etc'))} /etc/libvirt`,
    `mount --bind ${q(path.join(d, 'run'))} /run/libvirt`,
    `mount --bind ${q(path.join(d, 'lib'))} /var/lib/libvirt`,
    `mount --bind ${q(path.join(d, 'cache'))} /var/cache/libvirt`,
    `mount --bind ${q(path.join(d, 'log'))} /var/log/libvirt`,
    `hostname ${q(options.name)}`,
    // Own pid files: the defaults (/run/*.pid) are shared by every namespace on the machine.
    'virtlogd -d -p /run/libvirt/virtlogd.pid',
    'exec libvirtd -d -p /run/libvirt/libvirtd.pid -f /etc/libvirt/libvirtd.conf',
    '',
  ];
  const script = path.join(d, 'start.sh');
  writeFileSync(script, lines.join('\n'), { mode: 0o755 });
  return script;
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

async function waitReady(node: RunningNode, timeoutMs: number): Promise<void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (;;) {
    let last: string;
    try {
      // `list` rather than `version`: version probes the QEMU binary on every call (~4 s here).
      // libvirtd accepts connections before its drivers are up and answers once they are: a probe
      // that connected may wait for the rest of the deadline instead of being cut off and repeated.
      await run('virsh', ['-c', node.uri, 'list', '--all', '--name'], { timeoutMs: Math.max(deadline - Date.now(), READY_POLL_MS) });
      return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (daemonPid(node.dir, 'libvirtd') === null && Date.now() - started > PID_FILE_GRACE_MS) {
      throw new Error(`libvirt node ${node.name}: libvirtd is not running (last virsh: ${last}); end of ${node.logPath}:\n${tail(node.logPath)}`);
    }
    if (Date.now() >= deadline) {
      throw new Error(`libvirt node ${node.name}: not ready within ${timeoutMs} ms (last virsh: ${last}); end of ${node.logPath}:\n${tail(node.logPath)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

async function stopNode(dir: string): Promise<void> {
  const uri = nodeUri(dir);
  if (daemonPid(dir, 'libvirtd') !== null) {
    // Domains first: QEMU processes outlive libvirtd, and virtlogd must outlive every QEMU.
    try {
      const { stdout } = await run('virsh', ['-c', uri, 'list', '--name'], { timeoutMs: VIRSH_PROBE_TIMEOUT_MS });
      for (const name of stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
        await run('virsh', ['-c', uri, 'destroy', name], { timeoutMs: VIRSH_DESTROY_TIMEOUT_MS }).catch(() => undefined);
      }
    } catch {
      // libvirtd does not answer: the QEMU processes are killed by pid file below.
    }
  }
  await killQemuLeftovers(dir);
  await stopDaemon(dir, 'libvirtd');
  await killQemuLeftovers(dir);
  await stopDaemon(dir, 'virtlogd');
  unlinkSocketDir(path.join(dir, 'run'), LONGEST_SOCKET);
}

/** QEMU processes this node's libvirtd started and left behind (pid files in DIR/run/qemu). */
async function killQemuLeftovers(dir: string): Promise<void> {
  const qemuRun = path.join(dir, 'run', 'qemu');
  if (!existsSync(qemuRun)) return;
  for (const file of readdirSync(qemuRun).filter((f) => f.endsWith('.pid'))) {
    const pid = readPid(path.join(qemuRun, file));
    if (pid === null || !isAlive(pid) || !inNode(pid, dir) || !commandOf(pid).includes('qemu-system')) continue;
    await terminate(pid);
  }
}

async function stopDaemon(dir: string, daemon: Daemon): Promise<void> {
  const pid = daemonPid(dir, daemon);
  if (pid === null) return;
  await terminate(pid);
}

async function terminate(pid: number): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, STOP_GRACE_MS)) return;
  signal(pid, 'SIGKILL');
  if (!(await waitGone(pid, STOP_GRACE_MS))) throw new Error(`libvirt node: pid ${pid} survived SIGKILL for ${STOP_GRACE_MS} ms`);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** The live daemon of this node, or null. A PID is trusted only while it runs that daemon in this node's namespace. */
function daemonPid(dir: string, daemon: Daemon): number | null {
  const pid = readPid(pidFile(dir, daemon));
  if (pid === null || !isAlive(pid)) return null;
  return commandOf(pid).includes(daemon) && inNode(pid, dir) ? pid : null;
}

/** True when the process sees DIR/run mounted on /run/libvirt, i.e. lives in this node's mount namespace. */
function inNode(pid: number, dir: string): boolean {
  try {
    const runDir = path.join(dir, 'run');
    return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .some((line) => {
        const fields = line.split(' ');
        // Field 4 is the mount's root inside its filesystem: a suffix of DIR/run when /work is itself a mount.
        const root = fields[3] ?? '';
        return fields[4] === '/run/libvirt' && root.length > 1 && runDir.endsWith(root);
      });
  } catch {
    return false;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function pidFile(dir: string, daemon: Daemon): string {
  return path.join(dir, 'run', `${daemon}.pid`);
}

function readPid(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function removeMatching(dir: string, accept: (name: string) => boolean): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).filter(accept)) rmSync(path.join(dir, name), { force: true, recursive: true });
}

function tail(file: string, bytes = 3_000): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '(no log)';
  }
}
