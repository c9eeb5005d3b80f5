// `vm log`: the tail of a VM's serial console log, `<consoleLogDir>/<vm>.log` on the node that
// runs (or last ran) it. The file is read from this machine's filesystem, which works where the
// CLI runs on that node (and on the local cluster, whose nodes share one machine); anywhere else
// the error names the node and the path to look at there.
import fs from 'node:fs';
import { PvcError, errorMessage } from '../errors.ts';
import { consoleLogPath } from '../vm/domain-xml.ts';
import { domainNodeFacts } from './vm-dump.ts';
import { mustReadVmFacts, type VmTarget } from './vm-read.ts';

export const DEFAULT_LOG_LINES = 1_000;
export const LOG_LINES_MAX = 100_000;
/** At most this much of the file's end is read, however many lines are asked for. */
export const LOG_READ_MAX_BYTES = 8 * 1024 * 1024;

export interface LogOptions {
  lines: number;
}

export interface VmLog {
  name: string;
  node: string;
  path: string;
  text: string;
}

export function assertLogLines(lines: number): void {
  if (!Number.isInteger(lines) || lines < 1 || lines > LOG_LINES_MAX) {
    throw new PvcError('bad-input', `invalid number of lines ${JSON.stringify(lines)}: use a whole number from 1 to ${LOG_LINES_MAX}`);
  }
}

/** The last `lines` lines of `text` (a final newline does not count as an empty last line). */
export function lastLines(text: string, lines: number): string {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (body === '') return '';
  let at = body.length;
  for (let found = 0; found < lines; found += 1) {
    const nl = body.lastIndexOf('\n', at - 1);
    if (nl < 0) return text;
    at = nl;
  }
  return text.slice(at + 1);
}

/** The end of a file: at most LOG_READ_MAX_BYTES, starting at a line boundary when cut. */
function readTail(path: string): string {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const length = Math.min(size, LOG_READ_MAX_BYTES);
    const buffer = Buffer.alloc(length);
    const read = fs.readSync(fd, buffer, 0, length, size - length);
    const text = buffer.subarray(0, read).toString('utf8');
    // A cut start may split a line (or a UTF-8 sequence): drop up to the first newline.
    return length < size ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    fs.closeSync(fd);
  }
}

export async function vmLog(target: VmTarget, name: string, options: LogOptions): Promise<VmLog> {
  assertLogLines(options.lines);
  const facts = await mustReadVmFacts(target, name);
  const spec = facts.spec.value;
  if (!spec.serial.log) throw new PvcError('refused', `vm ${name} does not log its serial console (serial.log is false in its spec)`);
  // The node that wrote the status ran it last, even while the spec already names a new one.
  const node = facts.status?.node ?? spec.node;
  if (node === null) throw new PvcError('refused', `vm ${name} has not run on any node yet, so it has no console log`);
  const { consoleLogDir } = await domainNodeFacts(target, node);
  const path = consoleLogPath(consoleLogDir, name);
  let text: string;
  try {
    text = readTail(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new PvcError('not-found', `no console log of vm ${name} at ${path} on this machine: node ${node} writes it there (run pvc vm log on ${node}, or the vm has not started yet)`);
    }
    throw new PvcError('refused', `cannot read the console log of vm ${name} at ${path}: ${errorMessage(error)}`);
  }
  return { name, node, path, text: lastLines(text, options.lines) };
}
