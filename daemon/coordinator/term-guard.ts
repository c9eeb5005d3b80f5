// A primary runnable's term: from one start to the next stop. Passes capture the term they run
// in and check it (with the primary context) before every outside action, so a pass still in
// flight after stop(), or from an earlier term, does nothing more.
import type { PrimaryContext } from './runnables.ts';

export class TermGuard {
  private current = 0;
  private active = false;
  context: PrimaryContext | null = null;

  begin(context: PrimaryContext): number {
    this.current += 1;
    this.active = true;
    this.context = context;
    return this.current;
  }

  end(): void {
    this.current += 1;
    this.active = false;
  }

  /** True while `term` is the running term and the node may still act as primary. */
  live(term: number): boolean {
    return this.active && term === this.current && (this.context?.stillPrimary() ?? false);
  }
}

/** Waits for `work` at most `limitMs`; the work goes on in the background past that, fenced by its term. */
export async function settleWithin(work: Promise<unknown>, limitMs: number): Promise<'settled' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), limitMs);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => 'settled' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
