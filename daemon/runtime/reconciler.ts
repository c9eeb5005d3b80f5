// Reconcile, don't react: events only ask for a pass; a pass re-reads everything and acts.
// Passes run one at a time; triggers during a pass coalesce into one more pass; a periodic
// resync covers watch events that never arrived; a failed pass is retried after a delay.
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.ts';

export interface ReconcilerOptions {
  name: string;
  resyncIntervalMs: number;
  retryDelayMs: number;
  log: Logger;
}

export class Reconciler {
  private pending = false;
  private running: Promise<void> | null = null;
  private stopped = true;
  private resyncTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly options: ReconcilerOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.resyncTimer = setInterval(() => this.trigger(), this.options.resyncIntervalMs);
    this.trigger();
  }

  trigger(): void {
    if (this.stopped) return;
    this.pending = true;
    if (!this.running) this.running = this.drain();
  }

  /** Resolves once the passes asked for so far have run. */
  async settle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.settle();
  }

  private async drain(): Promise<void> {
    while (this.pending && !this.stopped) {
      this.pending = false;
      try {
        await this.pass();
      } catch (error) {
        this.options.log.warn({ reconciler: this.options.name, err: errorMessage(error) }, 'reconcile pass failed; retrying');
        if (this.retryTimer) clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.trigger(), this.options.retryDelayMs);
      }
    }
    this.running = null;
  }
}
