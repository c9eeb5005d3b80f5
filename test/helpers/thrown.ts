// The PvcError a call throws, for tests that check its code and message.
import { PvcError } from '../../common/errors.ts';

export function thrown(fn: () => unknown): PvcError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PvcError) return error;
    throw error;
  }
  throw new Error('expected a throw');
}
