// Waiting on ZooKeeper without polling: watches on the znodes that matter trigger a fresh read,
// and `judge` decides whether what was read is done, failed or not yet. The watches are set
// before the first read, so a change between the two is never missed; reads run one at a time,
// and events during a read ask for one more after it.
import { PvcError, errorMessage } from '../errors.ts';
import type { ZRef } from '../zk/schema.ts';
import type { ZkStore } from '../zk/store.ts';

/** What one look says: done (with the value to return), failed (the error to throw), or not yet. */
export type Verdict<R> = { kind: 'done'; value: R } | { kind: 'failed'; error: PvcError } | null;

/** Refuses a wait that is not a whole number of milliseconds from 0 to maxMs. */
export function assertWaitMs(waitMs: number, maxMs: number): void {
  if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > maxMs) {
    throw new PvcError('bad-input', `invalid wait ${JSON.stringify(waitMs)} ms: use a whole number from 0 to ${maxMs}`);
  }
}

export interface WatchUntilOptions<T, R> {
  store: ZkStore;
  /** Znodes whose data changes call for another look. */
  watch: ReadonlyArray<ZRef<unknown>>;
  read: () => Promise<T>;
  judge: (value: T) => Verdict<R>;
  waitMs: number;
  /** The message of the 'timeout' error, given the last value read (null when none was). */
  timeoutMessage: (last: T | null) => string;
}

export function watchUntil<T, R>(options: WatchUntilOptions<T, R>): Promise<R> {
  const { store, read, judge } = options;
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    let reading = false;
    let readAgain = false;
    let last: T | null = null;
    let lastError: unknown = null;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const unwatch of unwatches) unwatch();
      finish();
    };
    const check = async (): Promise<void> => {
      if (reading) {
        readAgain = true;
        return;
      }
      reading = true;
      do {
        readAgain = false;
        try {
          const value = await read();
          last = value;
          const verdict = judge(value);
          if (verdict?.kind === 'done') settle(() => resolve(verdict.value));
          else if (verdict?.kind === 'failed') settle(() => reject(verdict.error));
        } catch (error) {
          lastError = error; // a lost connection is retried on the next event, until the timeout
        }
      } while (readAgain && !settled);
      reading = false;
    };
    const unwatches = options.watch.map((ref) => store.watch(ref, 'data', () => void check()));
    const timer = setTimeout(() => {
      const cause = lastError ? ` (last read failed: ${errorMessage(lastError)})` : '';
      settle(() => reject(new PvcError('timeout', `${options.timeoutMessage(last)}${cause}`)));
    }, Math.max(0, options.waitMs));
    void check();
  });
}
