// Finds the folders under a root that hold a daemon's state (the safety nets that stop Ceph
// clusters and libvirt nodes whose test or script died before stopping them). A matching folder
// is not searched further; unreadable folders are skipped.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Folders under `root` (itself included, up to `maxDepth` levels down) whose entries `matches` accepts. */
export function findFoldersUnder(root: string, maxDepth: number, matches: (entries: readonly string[]) => boolean): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    if (matches(entries)) {
      found.push(dir);
      return;
    }
    if (depth >= maxDepth) return;
    for (const entry of entries) {
      const child = path.join(dir, entry);
      if (statSync(child, { throwIfNoEntry: false })?.isDirectory()) walk(child, depth + 1);
    }
  };
  walk(root, 0);
  return found;
}
