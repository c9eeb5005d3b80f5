// The one place the CLI writes to the terminal, and how data becomes text: aligned tables for
// people, json and yaml for programs. Everything else hands strings or data to this module.
import { PvcError } from '../common/errors.ts';

export const FORMATS = ['table', 'json', 'yaml'] as const;
export type Format = (typeof FORMATS)[number];
export const DEFAULT_FORMAT: Format = 'table';
export const FORMAT_HELP = `output format: ${FORMATS.join(', ')}`;

export function parseFormat(value: string): Format {
  if ((FORMATS as readonly string[]).includes(value)) return value as Format;
  throw new PvcError('bad-input', `invalid format ${JSON.stringify(value)}: use one of ${FORMATS.join(', ')}`);
}

/** Where text goes; tests swap it for a recorder. */
export interface Terminal {
  out(text: string): void;
  err(text: string): void;
}

const processTerminal: Terminal = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

let terminal: Terminal = processTerminal;

// `pvc vm list | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** Replaces the terminal (for tests); returns a function that puts the previous one back. */
export function setTerminal(next: Terminal): () => void {
  const previous = terminal;
  terminal = next;
  return () => {
    terminal = previous;
  };
}

/** Writes text to stdout, ending it with a newline when it has none. */
export function print(text: string): void {
  terminal.out(text.endsWith('\n') || text === '' ? text : `${text}\n`);
}

/** Writes text to stderr as-is (commander's own help and usage text). */
export function printRawError(text: string): void {
  terminal.err(text);
}

/** Progress of a --wait, on stderr so that stdout keeps only the (machine-readable) result. */
export function printProgress(line: string): void {
  terminal.err(`pvc: ${line.trimEnd()}\n`);
}

/** True when stderr is a terminal, where a progress bar may redraw itself in place. */
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true;
}

/** Redraws one status line in place on stderr (a progress bar); only for a terminal. */
export function printStatusLine(line: string): void {
  terminal.err(`\r${line}\u001b[K`);
}

/** Ends a status line, so that what follows starts on a line of its own. */
export function endStatusLine(): void {
  terminal.err('\n');
}

/** Writes `pvc: <message>` to stderr. */
export function printError(message: string): void {
  terminal.err(`pvc: ${message.trimEnd()}\n`);
}

export type Cell = string | number | boolean | null | undefined;

export interface Column<T> {
  header: string;
  value: (row: T) => Cell;
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right';
}

export function cellText(cell: Cell): string {
  if (cell === null || cell === undefined || cell === '') return '-';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  return String(cell);
}

/** Columns padded to their widest cell, two spaces apart, no trailing spaces. */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((row) => columns.map((c) => cellText(c.value(row))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => (line[i] ?? '').length)));
  return cells
    .map((line) =>
      line
        .map((text, i) => (columns[i]?.align === 'right' ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** "key  value" lines with the values aligned: one object shown for people. */
export function formatFields(fields: ReadonlyArray<readonly [string, Cell]>): string {
  const width = Math.max(0, ...fields.map(([key]) => key.length));
  return fields.map(([key, value]) => `${key.padEnd(width)}  ${cellText(value)}`.trimEnd()).join('\n');
}

/**
 * The text for `data` in `format`; `table` builds the human form, so that a command describes
 * its data once and gets all three formats.
 */
export async function renderText(data: unknown, format: Format, table: () => string): Promise<string> {
  if (format === 'json') return JSON.stringify(data, null, 2);
  if (format === 'yaml') {
    // Loaded only when asked for: the table and json paths stay free of the yaml module's cost.
    const { toYaml } = await import('./yaml-text.ts');
    return toYaml(data);
  }
  return table();
}

export async function render(data: unknown, format: Format, table: () => string): Promise<void> {
  print(await renderText(data, format, table));
}

/** The "Examples:" block that ends every command's help. */
export function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** Cuts long text for a table cell, marking the cut; the full text is in `info` and json/yaml. */
export function truncate(text: string | null, maxChars: number): string | null {
  if (text === null || text.length <= maxChars) return text;
  return `${text.slice(0, Math.max(0, maxChars - 3))}...`;
}

/**
 * Asks a yes/no question on the terminal; null when there is no terminal to ask on (stdin is
 * not a TTY), so that a script never hangs on a prompt and the caller refuses instead.
 */
export async function confirm(question: string): Promise<boolean | null> {
  if (!process.stdin.isTTY) return null;
  terminal.err(`${question} [y/N] `);
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: process.stdin });
  try {
    const answer = await new Promise<string>((resolve) => lines.once('line', resolve).once('close', () => resolve('')));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    lines.close();
  }
}
