// Argument helpers of the `pvc storage` commands: each refuses a wrong value with a 'bad-input'
// error naming it, before any connection is made.
import { PvcError } from '../common/errors.ts';
import { parseSize } from '../common/storage/size.ts';
import { VOLUME_MAX_SIZE_BYTES, VOLUME_MIN_SIZE_BYTES } from '../common/storage/names.ts';
import { confirm } from './output.ts';

export interface FormatOptions {
  format: string;
}

export function parseVolumeSize(text: string): number {
  return parseSize('volume size', text, { minBytes: VOLUME_MIN_SIZE_BYTES, maxBytes: VOLUME_MAX_SIZE_BYTES });
}

/** Asks before a destructive change; refuses without a terminal unless --yes was given. */
export async function confirmOrRefuse(question: string, yes: boolean | undefined, what: string): Promise<void> {
  if (yes) return;
  const answer = await confirm(question);
  if (answer === null) throw new PvcError('refused', `not going to ${what} without confirmation: give --yes`);
  if (!answer) throw new PvcError('refused', `did not ${what}: not confirmed`);
}
