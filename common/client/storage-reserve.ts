// Writes that add to a pool (volume add, resize, clone, upload) go through here: a reservation
// for the bytes is created first (ephemeral-sequential, so it goes with a crashed client's
// session), then the fullness rule is checked against Ceph's live numbers with every reservation
// of the pool counted, the writer's own included. Create-then-check means two racing writers
// each see the other: at worst both are refused, never both let through past the limit.
import { PvcError } from '../errors.ts';
import { checkFullness } from '../storage/fullness.ts';
import { parseReservationName, type StorageReservation } from '../zk/schema.ts';
import { readStorageSettings } from './storage-settings.ts';
import { joinInFlight } from './storage-shared-reads.ts';
import { cephStep, type StorageTarget } from './storage-target.ts';

/** More writes in flight into one pool than this is a leak, not a workload. */
export const RESERVATIONS_MAX = 10_000;

async function inFlightBytes(target: StorageTarget, pool: string, ownChild: string): Promise<number> {
  const { store, layout } = target;
  const children = await store.children(layout.reservationsDir());
  if (children.length > RESERVATIONS_MAX) throw new PvcError('corrupt', `${layout.reservationsDir().path} has ${children.length} children, more than ${RESERVATIONS_MAX}`);
  const others = children.filter((child) => child !== ownChild && isReservationOf(child, pool));
  const found = await Promise.all(others.map((child) => store.get(layout.reservation(child))));
  return found.reduce((sum, r) => sum + (r?.value.bytes ?? 0), 0);
}

function isReservationOf(child: string, pool: string): boolean {
  try {
    return parseReservationName(child).pool === pool;
  } catch {
    return false;
  }
}

/**
 * Runs `work` while holding a reservation of `reservation.bytes` in the pool, after the fullness
 * rule allowed it; `what` names the operation in errors (e.g. "cannot add volume vms/disk0").
 */
export async function withReservation<T>(target: StorageTarget, reservation: StorageReservation, what: string, work: () => Promise<T>): Promise<T> {
  const { store, layout } = target;
  const created = await store.create(layout.newReservation(reservation.pool), reservation, 'ephemeral-sequential');
  const ownChild = created.slice(created.lastIndexOf('/') + 1);
  try {
    const [settings, usage, others] = await Promise.all([
      readStorageSettings(target),
      cephStep(what, () => joinInFlight(target.ceph, 'pool-usage', () => target.ceph.poolUsage())),
      inFlightBytes(target, reservation.pool, ownChild),
    ]);
    const pool = usage.find((u) => u.pool === reservation.pool);
    if (!pool) throw new PvcError('not-found', `${what}: pool ${reservation.pool} does not exist in ceph`);
    const verdict = checkFullness({
      pool: reservation.pool,
      storedBytes: pool.storedBytes,
      maxAvailableBytes: pool.maxAvailableBytes,
      writeBytes: reservation.bytes,
      inFlightBytes: others,
      maxFullnessPercent: settings.maxFullnessPercent,
    });
    if (!verdict.ok) throw new PvcError('refused', `${what}: ${verdict.reason}`);
    return await work();
  } finally {
    // Not allowed to hide the operation's own outcome: a reservation that cannot be removed now
    // (ZooKeeper away) is ephemeral and goes with this client's session, which ends with it.
    await store.removeIfPresent(layout.reservation(ownChild)).catch(() => undefined);
  }
}
