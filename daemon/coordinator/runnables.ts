// Primary-only work: a set of runnables started when this coordinator takes the primary lock and
// stopped before it lets the lock go (or before its session can expire). Starts and stops are
// serialised, so a stop that arrives during a start waits for it and then undoes it.
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.ts';

export interface PrimaryContext {
  node: string;
  /** False once this node may no longer act as primary (lease ran out, lock lost, stopping). */
  stillPrimary(): boolean;
  log: Logger;
}

export interface Runnable {
  readonly name: string;
  start(context: PrimaryContext): Promise<void>;
  stop(reason: string): Promise<void>;
}

export class RunnableSet {
  private started: Runnable[] = [];
  /** True from a complete start to the next stop, also for an empty set. */
  private active = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly runnables: readonly Runnable[],
    private readonly stopTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  get running(): boolean {
    return this.active;
  }

  get names(): string[] {
    return this.runnables.map((r) => r.name);
  }

  startAll(context: PrimaryContext): Promise<void> {
    return this.serialise(async () => {
      if (this.running) return;
      for (const runnable of this.runnables) {
        // A start that fails leaves the others stopped: half a primary is worse than none.
        if (!context.stillPrimary()) break;
        try {
          await runnable.start(context);
          this.started.push(runnable);
        } catch (error) {
          this.log.error({ runnable: runnable.name, err: errorMessage(error) }, 'primary runnable failed to start');
          await this.stopStarted('a runnable failed to start');
          throw error;
        }
      }
      if (context.stillPrimary()) this.active = true;
      else await this.stopStarted('primary lost while starting');
    });
  }

  stopAll(reason: string): Promise<void> {
    return this.serialise(() => this.stopStarted(reason));
  }

  private async stopStarted(reason: string): Promise<void> {
    this.active = false;
    while (this.started.length > 0) {
      const runnable = this.started.pop() as Runnable;
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.stopTimeoutMs).unref());
      try {
        const outcome = await Promise.race([runnable.stop(reason).then(() => 'stopped' as const), timeout]);
        if (outcome === 'timeout') this.log.error({ runnable: runnable.name, stopTimeoutMs: this.stopTimeoutMs }, 'primary runnable did not stop in time');
      } catch (error) {
        this.log.error({ runnable: runnable.name, err: errorMessage(error) }, 'primary runnable failed to stop');
      }
    }
  }

  private serialise(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
