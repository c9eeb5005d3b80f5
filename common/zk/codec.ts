// Values in znodes are JSON validated by the schema's codecs, on the way in and on the way out.
import { PvcError, errorMessage } from '../errors.ts';
import type { ZRef } from './schema.ts';

export function encode<T>(ref: ZRef<T>, value: T): Buffer {
  let valid: T;
  try {
    valid = ref.codec.parse(value);
  } catch (error) {
    throw new PvcError('bad-input', `refusing to write an invalid value to ${ref.path}: ${describeIssue(error)}`);
  }
  return Buffer.from(JSON.stringify(valid));
}

export function decode<T>(ref: ZRef<T>, data: Buffer | undefined): T {
  try {
    return ref.codec.parse(JSON.parse(data ? data.toString('utf8') : 'null'));
  } catch (error) {
    throw new PvcError('corrupt', `the value stored at ${ref.path} is not valid: ${describeIssue(error)}`);
  }
}

function describeIssue(error: unknown): string {
  const issues = (error as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues;
  if (!issues) return errorMessage(error);
  return issues.map((i) => `${i.path.map(String).join('.') || '(value)'}: ${i.message}`).join('; ');
}
