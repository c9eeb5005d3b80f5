// A unix socket's address (sun_path) holds 108 bytes with its NUL, so a daemon whose sockets live
// in a deep folder (a test run in a long checkout path, a custom state folder) cannot bind them.
// Instead of failing, such a folder is reached through a symlink with a short, stable name:
// bind() and connect() follow symlinks in the folder part; only the address string is limited.
import { createHash } from 'node:crypto';
import { mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

/** sun_path is 108 bytes including the terminating NUL. */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;
/** Where the short aliases live; world-traversable so daemons running as other users reach them. */
export const SOCKET_ALIAS_ROOT = '/run/pvc-sockets';
const ALIAS_HEX_CHARS = 16;

/**
 * The folder to name in socket paths for sockets of `dir`: `dir` itself when its longest socket,
 * `longestName`, fits; otherwise a short alias (see linkSocketDir). Pure and stable for a `dir`.
 */
export function socketDirFor(dir: string, longestName: string): string {
  if (Buffer.byteLength(path.join(dir, longestName)) <= MAX_UNIX_SOCKET_PATH_BYTES) return dir;
  return path.join(SOCKET_ALIAS_ROOT, createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, ALIAS_HEX_CHARS));
}

/** Makes socketDirFor(dir, longestName) usable (creates or repoints the alias) and returns it. */
export function linkSocketDir(dir: string, longestName: string): string {
  const alias = socketDirFor(dir, longestName);
  if (alias === dir) return dir;
  const target = path.resolve(dir);
  if (readLink(alias) === target) return alias;
  mkdirSync(SOCKET_ALIAS_ROOT, { recursive: true, mode: 0o755 });
  rmSync(alias, { force: true });
  symlinkSync(target, alias);
  return alias;
}

/** Removes the alias of `dir`, when there is one and it still points at `dir`. */
export function unlinkSocketDir(dir: string, longestName: string): void {
  const alias = socketDirFor(dir, longestName);
  if (alias !== dir && readLink(alias) === path.resolve(dir)) rmSync(alias, { force: true });
}

function readLink(file: string): string | null {
  try {
    return readlinkSync(file);
  } catch {
    return null;
  }
}
