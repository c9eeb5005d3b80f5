// Removing a pool's, a volume's or a snapshot's whole subtree (spec, status, snapshots, volumes),
// children first, in multi-ops of at most TREE_BATCH_OPS. The subtree is listed afresh on each
// attempt: a status the primary wrote meanwhile makes a removal fail NOT_EMPTY, and the next
// attempt takes it too.
import { PvcError } from '../errors.ts';
import type { ZRef } from '../zk/schema.ts';
import { isZkError } from '../zk/store.ts';
import { readStorageNames } from './storage-read.ts';
import type { StorageReadTarget } from './storage-target.ts';

/** Ops per multi: well under ZooKeeper's 1 MiB request limit with these short paths. */
export const TREE_BATCH_OPS = 500;
export const TREE_REMOVE_MAX_ATTEMPTS = 8;

/** A volume's znodes, children first: snapshots (with their statuses), their folder, status, the spec. */
export async function volumeTree(target: StorageReadTarget, pool: string, volume: string): Promise<Array<ZRef<unknown>>> {
  const { layout } = target;
  const snapshots = await readStorageNames(target, layout.snapshotsDir(pool, volume), 'snapshot');
  return [
    ...snapshots.flatMap((snapshot) => snapshotTree(target, pool, volume, snapshot)),
    layout.snapshotsDir(pool, volume),
    layout.volumeStatus(pool, volume),
    layout.volume(pool, volume),
  ];
}

/** A snapshot's znodes, children first: its status, the spec. */
export function snapshotTree(target: StorageReadTarget, pool: string, volume: string, snapshot: string): Array<ZRef<unknown>> {
  return [target.layout.snapshotStatus(pool, volume, snapshot), target.layout.snapshot(pool, volume, snapshot)];
}

/** A pool's znodes, children first. */
export async function poolTree(target: StorageReadTarget, pool: string): Promise<Array<ZRef<unknown>>> {
  const { layout } = target;
  const volumes = await readStorageNames(target, layout.volumesDir(pool), 'volume');
  const trees = await Promise.all(volumes.map((volume) => volumeTree(target, pool, volume)));
  return [...trees.flat(), layout.volumesDir(pool), layout.poolStatus(pool), layout.pool(pool)];
}

/** Removes what `list` names (children first), whatever versions they have; absent nodes are skipped. */
export async function removeTree(target: StorageReadTarget, what: string, list: () => Promise<Array<ZRef<unknown>>>): Promise<void> {
  const { store } = target;
  for (let attempt = 1; attempt <= TREE_REMOVE_MAX_ATTEMPTS; attempt += 1) {
    const refs = await list();
    const present = (await Promise.all(refs.map(async (ref) => ((await store.stat(ref)) ? ref : null)))).filter((r): r is ZRef<unknown> => r !== null);
    try {
      for (let i = 0; i < present.length; i += TREE_BATCH_OPS) {
        const tx = store.transaction();
        for (const ref of present.slice(i, i + TREE_BATCH_OPS)) tx.remove(ref);
        await tx.commit();
      }
      return;
    } catch (error) {
      // A child appeared (NOT_EMPTY) or a node went (NO_NODE) since the listing: list again.
      if (isZkError(error, 'NOT_EMPTY') || isZkError(error, 'NO_NODE')) continue;
      throw error;
    }
  }
  throw new PvcError('conflict', `gave up removing ${what} from zookeeper: it changed ${TREE_REMOVE_MAX_ATTEMPTS} times while removing`);
}
