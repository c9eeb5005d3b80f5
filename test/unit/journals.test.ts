import { describe, expect, it } from 'vitest';
import { overlappingSpans, primarySpans } from '../helpers/journals.ts';
import type { JournalLine } from '../../daemon/coordinator/primary-journal.ts';

const line = (pid: number, event: JournalLine['event'], atMs: number): JournalLine => ({ node: `n${pid}`, pid, event, atMs });

describe('primary journal spans', () => {
  it('end a span at its last tick, not at a stop written after waking up', () => {
    const spans = primarySpans([line(1, 'start', 0), line(1, 'tick', 50), line(2, 'start', 100), line(2, 'tick', 150), line(1, 'stop', 200)]);
    expect(spans.map((s) => [s.pid, s.startMs, s.lastActiveMs, s.stopMs])).toEqual([[1, 0, 50, 200], [2, 100, 150, null]]);
    expect(overlappingSpans(spans)).toEqual([]);
  });

  it('finds two processes that worked at the same time', () => {
    const spans = primarySpans([line(1, 'start', 0), line(2, 'start', 40), line(1, 'tick', 50), line(2, 'tick', 60)]);
    expect(overlappingSpans(spans)).toHaveLength(1);
  });

  it('refuses a journal that ticks without a start', () => {
    expect(() => primarySpans([line(1, 'tick', 5)])).toThrow(/without a start/);
  });
});
