// Long-running service daemons of the primary (dnsmasq, pdns_server): started in the foreground
// as children of pvcd through common/exec.ts, optionally inside a named network namespace, and
// stopped by PID. Each runs under `setpriv --pdeathsig SIGKILL`, so the kernel kills it the
// moment pvcd dies, even by SIGKILL: a crashed primary leaves no DHCP or DNS server behind to
// answer beside the new one. (`ip netns exec`, setpriv and the daemon each exec the next, so
// the PID we get is the daemon's own.)
import { readFileSync } from 'node:fs';
import { spawnBackground } from '../../common/exec.ts';

/** How often a stop or a start looks at the process again. */
const POLL_MS = 10;

export interface ServiceLaunch {
  /** The daemon's binary and arguments; it must stay in the foreground. */
  file: string;
  args: readonly string[];
  /** A named network namespace to run in (`ip netns exec`); null: pvcd's own. */
  netns: string | null;
  env: Record<string, string>;
  /** The daemon's stdout and stderr (startup errors land here). */
  logFile: string;
}

/** The argument vector that runs `launch` under setpriv, in its namespace. */
export function launchCommand(launch: ServiceLaunch): { file: string; args: string[] } {
  const inner = launch.netns === null ? [launch.file, ...launch.args] : ['ip', 'netns', 'exec', launch.netns, launch.file, ...launch.args];
  return { file: 'setpriv', args: ['--pdeathsig', 'SIGKILL', ...inner] };
}

export function startService(launch: ServiceLaunch): number {
  const { file, args } = launchCommand(launch);
  // PATH is kept so that `ip` and the daemon's own helpers resolve as they would in a shell.
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...launch.env };
  return spawnBackground(file, args, { logFile: launch.logFile, env, detached: false });
}

/** True while the process exists and has not exited (a zombie counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** The process's argument vector, or null when it is gone. */
export function commandLineOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
  } catch {
    return null;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

export async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (isRunning(pid)) {
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return true;
}

/**
 * SIGTERM, then SIGKILL once `termGraceMs` has passed; resolves true once the process is gone,
 * false if even SIGKILL did not end it within `killWaitMs` (a process stuck in the kernel).
 */
export async function stopService(pid: number, termGraceMs: number, killWaitMs: number): Promise<boolean> {
  if (!isRunning(pid)) return true;
  signal(pid, termGraceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  if (termGraceMs > 0 && (await waitUntilGone(pid, termGraceMs))) return true;
  signal(pid, 'SIGKILL');
  return waitUntilGone(pid, killWaitMs);
}

/** Polls until `ready()` says yes, the process exits (false), or the time is up (false). */
export async function waitUntilReady(pid: number, ready: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!isRunning(pid)) return false;
    if (await ready()) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function sendSignal(pid: number, name: NodeJS.Signals): void {
  signal(pid, name);
}
