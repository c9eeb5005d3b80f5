// Retrying idempotent start-up steps across a ZooKeeper blip (a server dying, a leader election):
// a pvcd must not give up on its first CONNECTION_LOSS. Bounded: after the last attempt the
// error goes to the caller, which reports it and exits.
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.ts';
import { isTransientError } from '../../common/zk/store.ts';

export const START_STEP_ATTEMPTS = 6;
const FIRST_RETRY_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 2_000;

export async function retryTransient<T>(what: string, work: () => Promise<T>, log: Logger, attempts = START_STEP_ATTEMPTS): Promise<T> {
  let delayMs = FIRST_RETRY_DELAY_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !isTransientError(error)) throw error;
      log.warn({ step: what, attempt, retryInMs: delayMs, err: errorMessage(error) }, 'start-up step failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, MAX_RETRY_DELAY_MS);
    }
  }
}
