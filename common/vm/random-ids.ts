// Identifiers pvc makes up for a VM the user did not give them: its uuid and its NICs' MACs.
// The source of randomness is passed in, so that tests can make them deterministic.
import crypto from 'node:crypto';

/** Returns `size` random bytes. */
export type RandomBytes = (size: number) => Uint8Array;

export const cryptoRandomBytes: RandomBytes = (size) => crypto.randomBytes(size);

/**
 * QEMU's own prefix (52:54:00): locally administered and unicast, so generated MACs never
 * collide with a vendor's card; the same prefix PVC and libvirt use.
 */
export const GENERATED_MAC_PREFIX = '52:54:00';

const hex = (byte: number): string => byte.toString(16).padStart(2, '0');

function take(random: RandomBytes, size: number): number[] {
  const bytes = random(size);
  if (bytes.length !== size) throw new Error(`random source returned ${bytes.length} bytes, expected ${size}`);
  return [...bytes];
}

/** A version 4 (random) uuid, lowercase. */
export function generateUuid(random: RandomBytes): string {
  const b = take(random, 16);
  b[6] = ((b[6] as number) & 0x0f) | 0x40;
  b[8] = ((b[8] as number) & 0x3f) | 0x80;
  const h = b.map(hex).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function generateMac(random: RandomBytes): string {
  return [GENERATED_MAC_PREFIX, ...take(random, 3).map(hex)].join(':');
}
