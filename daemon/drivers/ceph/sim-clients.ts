// What clients outside pvc do to the simulated cluster (sim.ts), for tests: another client's
// advisory lock (as `rbd lock add`), an open image that shows as a watcher (a running QEMU), a
// guest writing into its disk. The real cluster's tests do the same with rbd, qemu-nbd and
// qemu-io (test/helpers/ceph-clients.ts).
import { CephError, type RbdLock, type RbdWatcher } from './port.ts';
import { nonZeroBytes, type SimCephState } from './sim-model.ts';

export function holdLock(state: SimCephState, pool: string, image: string, id: string): RbdLock {
  const found = state.image('lock', pool, image);
  if (found.locks.length > 0) throw new CephError('busy', 'lock', `${pool}/${image}`, 'lock is already held by someone else');
  const lock = { id, ...state.newClient() };
  found.locks.push(lock);
  return { ...lock };
}

export function openWatcher(state: SimCephState, pool: string, image: string): RbdWatcher {
  const client = state.newClient();
  const watcher = { address: client.address, client: client.locker };
  state.image('watchers', pool, image).watchers.push(watcher);
  return { ...watcher };
}

export function closeWatcher(state: SimCephState, pool: string, image: string, address: string): void {
  const found = state.image('watchers', pool, image);
  found.watchers = found.watchers.filter((w) => w.address !== address);
}

/** Writes `data` at `offset` (cut at the image's size); the pool's usage grows by the bytes that are not zero. */
export function writeImage(state: SimCephState, pool: string, image: string, offset: number, data: Buffer): void {
  const found = state.image('volume', pool, image);
  const end = Math.min(found.sizeBytes, offset + data.length);
  if (end <= offset) return;
  const next = Buffer.alloc(Math.max(found.data.length, end));
  found.data.copy(next);
  data.copy(next, offset, 0, end - offset);
  found.data = next;
  found.ownBytes += nonZeroBytes(data.subarray(0, end - offset));
}
