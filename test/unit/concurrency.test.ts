// forEachLimited: every item once, in order of start, never more than the limit in flight.
import { describe, expect, it } from 'vitest';
import { forEachLimited } from '../../common/concurrency.ts';

describe('forEachLimited', () => {
  it('runs every item once with at most `limit` in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    await forEachLimited(Array.from({ length: 25 }, (_, i) => i), 4, async (item, index) => {
      expect(index).toBe(item);
      started.push(item);
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, (item % 3) * 2));
      inFlight -= 1;
    });
    expect(started).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(most).toBe(4);
  });

  it('does nothing for no items, and refuses a limit below one', async () => {
    await forEachLimited([], 3, async () => {
      throw new Error('never called');
    });
    await expect(forEachLimited([1], 0, async () => undefined)).rejects.toThrow('limit must be a positive integer, got 0');
  });

  it('rejects with the first failure', async () => {
    await expect(forEachLimited([1, 2, 3], 2, async (item) => {
      if (item === 2) throw new Error('item 2 failed');
    })).rejects.toThrow('item 2 failed');
  });
});
