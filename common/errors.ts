// Errors that cross a module boundary carry a code, a lowercase message that names the
// wrong value, and (for the CLI) an exit code. Programmer errors use assert instead.

export type PvcErrorCode =
  | 'bad-input' // the caller gave a value we cannot accept
  | 'refused' // the request is valid but the cluster's state forbids it
  | 'not-found'
  | 'conflict' // a compare-and-set lost too many times
  | 'corrupt' // a stored value failed validation
  | 'schema-too-new'
  | 'not-authorized'
  | 'unreachable' // ZooKeeper (or another outside system) did not answer in time
  | 'timeout';

export class PvcError extends Error {
  constructor(
    readonly code: PvcErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PvcError';
  }
}

export const EXIT_OK = 0;
export const EXIT_BAD_INPUT_OR_REFUSED = 1;
export const EXIT_UNREACHABLE = 2;

export function exitCodeFor(error: unknown): number {
  if (error instanceof PvcError && (error.code === 'unreachable' || error.code === 'timeout')) {
    return EXIT_UNREACHABLE;
  }
  return EXIT_BAD_INPUT_OR_REFUSED;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
