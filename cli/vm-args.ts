// Argument parsers of the `pvc vm` commands: each refuses a wrong value with a 'bad-input' error
// naming the option (or file) and the value, before any connection is made. Light on purpose:
// main.ts loads this for every command, so the definition parser (zod, yaml) is not imported here.
import fs from 'node:fs';
import { PvcError, errorMessage } from '../common/errors.ts';

/** A whole number in [min, max]; `option` names the flag in the error. */
export function parseCount(option: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new PvcError('bad-input', `invalid ${option} ${JSON.stringify(value)}: use a whole number from ${min} to ${max}`);
  return n;
}

/**
 * The text of a definition file, or of stdin for '-'. A file larger than `maxBytes` is refused
 * before it is read: it is not a VM definition, and reading it whole could take all memory.
 */
export function readDefinitionFile(file: string, maxBytes: number, readStdin: () => string = () => fs.readFileSync(0, 'utf8')): string {
  try {
    if (file === '-') return readStdin();
    const size = fs.statSync(file).size;
    if (size > maxBytes) throw new PvcError('bad-input', `definition file ${file} is ${size} bytes, more than the ${maxBytes} allowed`);
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof PvcError) throw error;
    throw new PvcError('bad-input', `cannot read definition file ${file}: ${errorMessage(error)}`);
  }
}

/**
 * How long a state command waits: --wait-ms N waits N ms (0: not at all), --wait alone waits
 * `defaultMs`, neither does not wait.
 */
export function waitMsOf(options: { wait?: boolean; waitMs?: string }, defaultMs: number, maxMs: number): number {
  if (options.waitMs !== undefined) return parseCount('--wait-ms', options.waitMs, 0, maxMs);
  return options.wait ? defaultMs : 0;
}
