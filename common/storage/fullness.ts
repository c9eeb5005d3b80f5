// The fullness rule: a write that would fill a pool past the cluster's limit is refused. Pure,
// so that the rule is tested on its own; the client feeds it Ceph's live numbers.
//
// Capacity is what the pool holds plus what it can still take (Ceph's stored + max_avail, both
// before replication). A write counts with its full provisioned size (RBD is thin, but a volume
// may be filled at any time), plus every other write in flight into the same pool.
import { formatSize } from './size.ts';

export interface FullnessInput {
  pool: string;
  storedBytes: number;
  maxAvailableBytes: number;
  /** The bytes this write may add (a new volume's size, a resize's growth). */
  writeBytes: number;
  /** Bytes other writes in flight into the pool may add (their reservations). */
  inFlightBytes: number;
  maxFullnessPercent: number;
}

export type FullnessVerdict =
  | { ok: true; afterPercent: number }
  | { ok: false; afterPercent: number; reason: string };

export function checkFullness(input: FullnessInput): FullnessVerdict {
  const capacityBytes = input.storedBytes + input.maxAvailableBytes;
  const afterBytes = input.storedBytes + input.inFlightBytes + input.writeBytes;
  if (capacityBytes <= 0) {
    return { ok: false, afterPercent: 100, reason: `pool ${input.pool} has no capacity (no OSD takes its data)` };
  }
  const afterPercent = (afterBytes / capacityBytes) * 100;
  // Compared in bytes, not in rounded percent: a write that lands exactly on the limit passes.
  if (afterBytes * 100 <= input.maxFullnessPercent * capacityBytes) return { ok: true, afterPercent };
  const inFlight = input.inFlightBytes > 0 ? ` and ${formatSize(input.inFlightBytes)} of other writes in progress` : '';
  return {
    ok: false,
    afterPercent,
    reason:
      `it would fill pool ${input.pool} to ${afterPercent.toFixed(1)} %, past the limit of ${input.maxFullnessPercent} % ` +
      `(${formatSize(input.storedBytes)} stored${inFlight} + ${formatSize(input.writeBytes)} new, of ${formatSize(capacityBytes)})`,
  };
}
