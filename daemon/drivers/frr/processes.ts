// The FRR daemons' processes, found through their pid files. A pid is taken as the daemon's only
// when /proc/<pid>/cmdline names this node's state folder, so a pid reused by another process
// after a crash is never mistaken for (or killed as) the daemon.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type FrrDaemon = 'zebra' | 'bgpd';

/** How often a start or stop is checked on. */
const POLL_INTERVAL_MS = 25;

/** The daemon's pid when it runs for this state folder, else null. */
export function daemonPid(dir: string, daemon: FrrDaemon): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dir, `${daemon}.pid`), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 1) return null;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000');
    const ours = argv.some((arg) => arg.endsWith(`/${daemon}`) || arg === daemon) && argv.includes(path.join(dir, `${daemon}.conf`));
    if (!ours) return null;
    // A killed daemon stays a zombie until its parent reaps it: it no longer runs.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /\) Z /.test(stat) ? null : pid;
  } catch {
    return null;
  }
}

export function daemonAlive(dir: string, daemon: FrrDaemon): boolean {
  return daemonPid(dir, daemon) !== null;
}

/** Polls `probe` until it is true (returns true) or the time is up (returns false). */
export async function waitUntil(timeoutMs: number, probe: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** SIGTERM, and SIGKILL when it has not exited after `timeoutMs`; quiet when it does not run. */
export async function stopDaemon(dir: string, daemon: FrrDaemon, timeoutMs: number): Promise<void> {
  const pid = daemonPid(dir, daemon);
  if (pid === null) return;
  signal(pid, 'SIGTERM');
  if (await waitUntil(timeoutMs, () => !daemonAlive(dir, daemon))) return;
  signal(pid, 'SIGKILL');
  await waitUntil(timeoutMs, () => !daemonAlive(dir, daemon));
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
