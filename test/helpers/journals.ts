// Reads primary journals (daemon/coordinator/primary-journal.ts) and turns them into the spans in
// which each process acted as primary: from its start line to its last start-or-tick line before
// the matching stop. A process frozen by SIGSTOP ticks no more, so its span ends where it froze.
import { existsSync, readFileSync } from 'node:fs';
import type { JournalLine } from '../../daemon/coordinator/primary-journal.ts';

export interface PrimarySpan {
  node: string;
  pid: number;
  startMs: number;
  lastActiveMs: number;
  stopMs: number | null;
  stopReason: string | null;
}

export function readJournal(path: string | null): JournalLine[] {
  if (!path || !existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JournalLine);
}

export function primarySpans(lines: readonly JournalLine[]): PrimarySpan[] {
  const spans: PrimarySpan[] = [];
  const open = new Map<number, PrimarySpan>();
  for (const line of lines) {
    if (line.event === 'start') {
      const span = { node: line.node, pid: line.pid, startMs: line.atMs, lastActiveMs: line.atMs, stopMs: null, stopReason: null };
      open.set(line.pid, span);
      spans.push(span);
    } else {
      const span = open.get(line.pid);
      if (!span) throw new Error(`journal line without a start: ${JSON.stringify(line)}`);
      if (line.event === 'tick') span.lastActiveMs = line.atMs;
      else {
        span.stopMs = line.atMs;
        span.stopReason = line.reason ?? null;
        open.delete(line.pid);
      }
    }
  }
  return spans;
}

/** Pairs of spans (from different processes) whose active parts overlap; empty is good. */
export function overlappingSpans(spans: readonly PrimarySpan[]): Array<[PrimarySpan, PrimarySpan]> {
  const sorted = [...spans].sort((a, b) => a.startMs - b.startMs);
  const overlaps: Array<[PrimarySpan, PrimarySpan]> = [];
  for (let i = 0; i < sorted.length; i += 1) {
    for (let j = i + 1; j < sorted.length; j += 1) {
      const a = sorted[i] as PrimarySpan;
      const b = sorted[j] as PrimarySpan;
      if (a.pid !== b.pid && b.startMs <= a.lastActiveMs) overlaps.push([a, b]);
    }
  }
  return overlaps;
}
