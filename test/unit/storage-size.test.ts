// The size parser and printer of the storage commands: binary units, exact fractions, and
// refusals that name the value and say what to type instead.
import { describe, expect, it } from 'vitest';
import { formatSize, parseSize } from '../../common/storage/size.ts';
import { thrown } from '../helpers/thrown.ts';

const GiB = 1024 ** 3;

describe('parseSize', () => {
  it.each([
    ['10G', 10 * GiB],
    ['10g', 10 * GiB],
    ['10GiB', 10 * GiB],
    ['10GB', 10 * GiB],
    ['10 G', 10 * GiB],
    ['512M', 512 * 1024 ** 2],
    ['1T', 1024 ** 4],
    ['1.5T', 1.5 * 1024 ** 4],
    ['0.5K', 512],
    ['4096B', 4096],
    ['1P', 1024 ** 5],
    [' 2G ', 2 * GiB],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseSize('volume size', text)).toBe(bytes);
  });

  it('refuses a bare number, asking for a unit', () => {
    const error = thrown(() => parseSize('volume size', '10'));
    expect(error.code).toBe('bad-input');
    expect(error.message).toBe('invalid volume size "10": no unit given; use a size with a unit: B, K, M, G, T or P (binary: 1K = 1024 bytes), e.g. 10G, 512M, 1.5T');
  });

  it.each(['', 'G', '10X', '-1G', '1e3G', '10GG', '1,5G', 'ten G', '1'.repeat(40) + 'G'])('refuses %j, naming it', (text) => {
    const error = thrown(() => parseSize('volume size', text));
    expect(error.code).toBe('bad-input');
    expect(error.message).toContain(`invalid volume size ${JSON.stringify(text)}`);
  });

  it('refuses what is not a whole number of bytes', () => {
    expect(thrown(() => parseSize('volume size', '0.1K')).message).toBe('invalid volume size "0.1K": not a whole number of bytes');
  });

  it('holds the limits, saying them', () => {
    expect(thrown(() => parseSize('volume size', '512K', { minBytes: 1024 ** 2 })).message).toBe('invalid volume size "512K": use 1 MiB to 8 PiB');
    expect(thrown(() => parseSize('volume size', '2P', { minBytes: 1, maxBytes: 1024 ** 5 })).message).toBe('invalid volume size "2P": use 1 B to 1 PiB');
    expect(parseSize('volume size', '1M', { minBytes: 1024 ** 2 })).toBe(1024 ** 2);
  });
});

describe('formatSize', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [10 * GiB, '10 GiB'],
    [1.25 * 1024 ** 4, '1.25 TiB'],
    [GiB + 1, '1 GiB'],
    [1024 ** 5, '1 PiB'],
  ])('shows %d as %j', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('reads back what it prints for whole units', () => {
    for (const bytes of [1024, 3 * GiB, 7 * 1024 ** 4]) expect(parseSize('size', formatSize(bytes).replace(' ', ''))).toBe(bytes);
  });
});
