// Concurrent storage operations of one process often ask Ceph the same question at the same
// moment: 100 clones of one golden image each ask `ceph df` (the fullness rule) and `rbd snap ls`
// of the source. Each question is a process, and `ceph` is Python (~0.25 s of CPU to start), so on
// a small machine the repeats, not the clones, take the time. A question already in flight is
// joined instead of asked again; nothing is kept once it is answered, so a later call always asks.
//
// Why a joined answer is fresh enough: it was asked at most one call's duration earlier. Pool
// usage lags writes by seconds anyway (the OSDs report their statistics periodically) and the
// race-safety of the fullness rule rests on the reservations in ZooKeeper, which every writer reads
// itself after making its own. A snapshot's protection seen a moment early is checked again by the
// driver next to the clone itself.
import type { CephDriver } from './storage-target.ts';

const inFlight = new WeakMap<CephDriver, Map<string, Promise<unknown>>>();

/** The answer of the call with this key that is in flight on this driver, or of a new one. */
export function joinInFlight<T>(ceph: CephDriver, key: string, call: () => Promise<T>): Promise<T> {
  let calls = inFlight.get(ceph);
  if (!calls) {
    calls = new Map();
    inFlight.set(ceph, calls);
  }
  const running = calls.get(key);
  if (running) return running as Promise<T>;
  const table = calls;
  const started = call().finally(() => table.delete(key));
  table.set(key, started);
  return started;
}
