// A set of ZooKeeper watches kept in step with what a controller last read: watches for things
// that appeared are added, those for things that went are removed. Every watch only triggers a
// pass (reconcile, don't react); the pass re-reads and syncs the set again.
import type { WatchKind, ZkStore } from '../../common/zk/store.ts';
import type { ZRef } from '../../common/zk/schema.ts';

export interface WatchTarget {
  ref: ZRef<unknown>;
  kind: WatchKind;
}

export class WatchSet {
  private readonly active = new Map<string, () => void>();

  constructor(
    private readonly store: ZkStore,
    private readonly onChange: () => void,
  ) {}

  /** Makes the watches exactly `targets` (keyed by path and kind). */
  sync(targets: readonly WatchTarget[]): void {
    const wanted = new Map(targets.map((t) => [`${t.kind} ${t.ref.path}`, t]));
    for (const [key, unwatch] of this.active) {
      if (wanted.has(key)) continue;
      unwatch();
      this.active.delete(key);
    }
    for (const [key, target] of wanted) {
      if (!this.active.has(key)) this.active.set(key, this.store.watch(target.ref, target.kind, this.onChange));
    }
  }

  clear(): void {
    this.sync([]);
  }

  get size(): number {
    return this.active.size;
  }
}
