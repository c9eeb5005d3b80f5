// Sizes as people type them (10G, 512M, 1.5T) and as they read them. Units are binary, as Ceph
// and PVC use them: K = 1024 bytes, M = 1024 K, and so on; KB, KiB and K mean the same. A bare
// number is refused: whether "10" means bytes, MiB (rbd's default) or GiB is a guess we do not make.
import { PvcError } from '../errors.ts';

export const SIZE_UNITS = ['B', 'K', 'M', 'G', 'T', 'P'] as const;
const UNIT_POWER: Record<string, number> = { B: 0, K: 1, M: 2, G: 3, T: 4, P: 5 };
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([BKMGTP])(?:I?B)?$/;
/** Longer input is not a size; it also keeps the number parsing exact. */
const SIZE_TEXT_MAX_CHARS = 32;

export const SIZE_HELP = 'a size with a unit: B, K, M, G, T or P (binary: 1K = 1024 bytes), e.g. 10G, 512M, 1.5T';

/**
 * Bytes from text such as `10G`, `512MiB`, `1.5T`, `4096B`. `what` names the value in errors
 * (e.g. "volume size"). A size that is not a whole number of bytes, or outside [min, max], is refused.
 */
export function parseSize(what: string, text: string, limits: { minBytes?: number; maxBytes?: number } = {}): number {
  const trimmed = text.trim();
  const match = trimmed.length <= SIZE_TEXT_MAX_CHARS ? SIZE_PATTERN.exec(trimmed.toUpperCase()) : null;
  if (!match?.[1] || !match[2]) {
    const bare = /^\d+(\.\d+)?$/.test(trimmed) ? 'no unit given; ' : '';
    throw new PvcError('bad-input', `invalid ${what} ${JSON.stringify(text)}: ${bare}use ${SIZE_HELP}`);
  }
  const [whole, fraction = ''] = match[1].split('.');
  const scale = 1024 ** (UNIT_POWER[match[2]] ?? 0);
  // Whole and fractional parts apart: 1.5T is 1649267441664 exactly, not a rounded float.
  const fractionBytes = fraction === '' ? 0 : (Number(fraction) * scale) / 10 ** fraction.length;
  const bytes = Number(whole) * scale + fractionBytes;
  if (!Number.isSafeInteger(bytes)) {
    throw new PvcError('bad-input', `invalid ${what} ${JSON.stringify(text)}: ${Number.isInteger(bytes) ? 'too large' : 'not a whole number of bytes'}`);
  }
  const { minBytes = 1, maxBytes = Number.MAX_SAFE_INTEGER } = limits;
  if (bytes < minBytes || bytes > maxBytes) {
    throw new PvcError('bad-input', `invalid ${what} ${JSON.stringify(text)}: use ${formatSize(minBytes)} to ${formatSize(maxBytes)}`);
  }
  return bytes;
}

/** The largest unit that shows the size with at most two decimals, e.g. 10 GiB, 1.5 TiB, 300 B. */
export function formatSize(bytes: number): string {
  let power = 0;
  while (power < SIZE_UNITS.length - 1 && Math.abs(bytes) >= 1024 ** (power + 1)) power += 1;
  if (power === 0) return `${bytes} B`;
  const value = bytes / 1024 ** power;
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, '');
  return `${text} ${SIZE_UNITS[power]}iB`;
}
