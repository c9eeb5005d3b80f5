// Parsers of option values given on the command line: each refuses a wrong value with a
// 'bad-input' error that names the option and the value.
import fs from 'node:fs';
import { PvcError, errorMessage } from '../common/errors.ts';

/** Whole milliseconds in [min, max]; `option` names the flag in the error. */
export function parseMs(option: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new PvcError('bad-input', `invalid ${option} ${JSON.stringify(value)}: use a whole number of milliseconds`);
  const ms = Number(value.trim());
  if (ms < min || ms > max) throw new PvcError('bad-input', `invalid ${option} ${JSON.stringify(value)}: use ${min} to ${max} milliseconds`);
  return ms;
}

/** A password file bigger than this is the wrong file. */
const PASSWORD_FILE_MAX_BYTES = 4096;

/**
 * The password from exactly one of --password and --password-file ('-' reads stdin). One
 * trailing newline is dropped, since editors and `echo` add it.
 */
export function readPassword(options: { password?: string; passwordFile?: string }, readStdin: () => string = () => fs.readFileSync(0, 'utf8')): string {
  if (options.password !== undefined && options.passwordFile !== undefined) {
    throw new PvcError('bad-input', 'give either --password or --password-file, not both');
  }
  if (options.password !== undefined) return options.password;
  if (options.passwordFile === undefined) throw new PvcError('bad-input', 'missing password: give --password or --password-file');
  const file = options.passwordFile;
  let text: string;
  try {
    if (file === '-') text = readStdin();
    else {
      const size = fs.statSync(file).size;
      if (size > PASSWORD_FILE_MAX_BYTES) throw new PvcError('bad-input', `password file ${file} is ${size} bytes, more than ${PASSWORD_FILE_MAX_BYTES}`);
      text = fs.readFileSync(file, 'utf8');
    }
  } catch (error) {
    if (error instanceof PvcError) throw error;
    throw new PvcError('bad-input', `cannot read password file ${file}: ${errorMessage(error)}`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password.includes('\n')) throw new PvcError('bad-input', `password file ${file} has more than one line`);
  return password;
}
