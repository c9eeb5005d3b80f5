// A primary runnable that does nothing but write down when it runs: a start line, a tick every
// tickIntervalMs while it may act as primary, and a stop line. Tests and benchmarks read these
// journals to prove that two primaries never worked at once and to time a handover. Lines are
// appended synchronously so that their order in the file is the order they happened in.
import { appendFileSync } from 'node:fs';
import type { PrimaryContext, Runnable } from './runnables.ts';

export type JournalEvent = 'start' | 'tick' | 'stop';

export interface JournalLine {
  node: string;
  pid: number;
  event: JournalEvent;
  /** Wall clock; the journals compared in tests come from one machine. */
  atMs: number;
  reason?: string;
}

export class PrimaryJournal implements Runnable {
  readonly name = 'primary-journal';
  private timer: NodeJS.Timeout | null = null;
  private context: PrimaryContext | null = null;

  constructor(
    private readonly path: string,
    private readonly tickIntervalMs: number,
  ) {}

  async start(context: PrimaryContext): Promise<void> {
    this.context = context;
    this.write('start');
    this.timer = setInterval(() => this.tick(), this.tickIntervalMs);
  }

  async stop(reason: string): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.write('stop', reason);
    this.context = null;
  }

  private tick(): void {
    // The guard is checked on every tick: a process that wakes from SIGSTOP finds its lease
    // gone here before it can record any work.
    if (this.context?.stillPrimary()) this.write('tick');
  }

  private write(event: JournalEvent, reason?: string): void {
    const node = this.context?.node ?? 'unknown';
    const line: JournalLine = { node, pid: process.pid, event, atMs: Date.now(), ...(reason ? { reason } : {}) };
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }
}
