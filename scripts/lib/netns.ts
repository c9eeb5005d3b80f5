// Named network namespaces (`ip netns`) for the local cluster's network and the real network
// tests: create (loopback up), delete, and run `ip` or a program inside one. The caller chooses
// names that never collide with another user of this machine's namespaces.
import { existsSync } from 'node:fs';
import { run, type RunResult } from '../../common/exec.ts';

/** `ip netns` calls are quick netlink/mount operations; bound them anyway. */
export const NETNS_COMMAND_TIMEOUT_MS = 15_000;

export function netnsExists(name: string): boolean {
  return existsSync(`/run/netns/${name}`);
}

/** Creates the namespace (deleting a leftover of the same name first) with its loopback up. */
export async function addNetns(name: string): Promise<void> {
  if (netnsExists(name)) await deleteNetns(name);
  await run('ip', ['netns', 'add', name], { timeoutMs: NETNS_COMMAND_TIMEOUT_MS });
  await ipIn(name, ['link', 'set', 'lo', 'up']);
}

/** Deletes the namespace if it exists; its links go with it. */
export async function deleteNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  await run('ip', ['netns', 'del', name], { timeoutMs: NETNS_COMMAND_TIMEOUT_MS });
}

/** The PIDs of the processes inside the namespace (`ip netns pids`); [] when it does not exist. */
export async function pidsIn(name: string): Promise<number[]> {
  if (!netnsExists(name)) return [];
  const { stdout } = await run('ip', ['netns', 'pids', name], { timeoutMs: NETNS_COMMAND_TIMEOUT_MS });
  return stdout.split(/\s+/).filter((t) => /^\d+$/.test(t)).map(Number);
}

/** `ip -n NS ...`. */
export async function ipIn(name: string, args: readonly string[]): Promise<RunResult> {
  return run('ip', ['-n', name, ...args], { timeoutMs: NETNS_COMMAND_TIMEOUT_MS });
}

/** Runs a program inside the namespace (`ip netns exec NS file args`). */
export async function execIn(name: string, file: string, args: readonly string[], timeoutMs = NETNS_COMMAND_TIMEOUT_MS): Promise<RunResult> {
  return run('ip', ['netns', 'exec', name, file, ...args], { timeoutMs });
}

/** True when a command run in the namespace exits 0 (a ping that answers, a port that connects). */
export async function succeedsIn(name: string, file: string, args: readonly string[], timeoutMs = NETNS_COMMAND_TIMEOUT_MS): Promise<boolean> {
  try {
    await execIn(name, file, args, timeoutMs);
    return true;
  } catch {
    return false;
  }
}
