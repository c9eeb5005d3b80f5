// Bounded concurrency for work over a list: at most `limit` items in flight, taken in order.
// Used where each item starts outside processes (Ceph's CLIs) and an unbounded Promise.all would
// fork hundreds at once on a small machine.

/** Runs `work` on every item, at most `limit` at once; rejects with the first failure (others finish). */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`forEachLimited: limit must be a positive integer, got ${limit}`);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      await work(items[index] as T, index);
    }
  });
  await Promise.all(lanes);
}
