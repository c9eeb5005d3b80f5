// docs/zk-schema.md must not drift from SCHEMA_DESCRIPTION (common/zk/schema.ts): its path table
// lists every described path with the same kind, and names no path under /pvc that the code
// does not describe. The table is the first one whose header is | Path | Kind | Written by | Holds |.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA_DESCRIPTION } from '../../common/zk/schema.ts';

const DOC_PATH = new URL('../../docs/zk-schema.md', import.meta.url);
const HEADER = ['Path', 'Kind', 'Written by', 'Holds'];

interface Row {
  line: number;
  cells: string[];
}

/** The cells of one table line; a pipe escaped as \| stays inside its cell. */
function cellsOf(line: string): string[] {
  const body = line.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '');
  return body.split(/(?<!\\)\|/).map((cell) => cell.trim());
}

function isTableLine(line: string | undefined): line is string {
  return line !== undefined && line.trim().startsWith('|');
}

/** The rows of the path table (header and separator excluded), with their 1-based line numbers. */
function pathTable(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => isTableLine(line) && JSON.stringify(cellsOf(line)) === JSON.stringify(HEADER));
  if (start < 0) throw new Error(`docs/zk-schema.md has no table with the header | ${HEADER.join(' | ')} |`);
  const separator = lines[start + 1];
  if (!isTableLine(separator) || !cellsOf(separator).every((cell) => /^:?-{3,}:?$/.test(cell))) {
    throw new Error(`docs/zk-schema.md line ${start + 2}: the path table's header is not followed by a separator line`);
  }
  const rows: Row[] = [];
  for (let i = start + 2; isTableLine(lines[i]); i += 1) rows.push({ line: i + 1, cells: cellsOf(lines[i] as string) });
  return rows;
}

/** The text of every `code span` in a cell. */
function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string);
}

/** Read afresh by each test, so that a missing doc or table fails the tests rather than the file load. */
function tableRows(): Row[] {
  return pathTable(readFileSync(DOC_PATH, 'utf8'));
}

const described = new Map(SCHEMA_DESCRIPTION.map((entry) => [entry.path, entry.kind]));

/** Path cell (exactly one code span) -> kind cell (backticks dropped), for every row. */
function documented(rows: readonly Row[]): Map<string, { kind: string; line: number }> {
  const byPath = new Map<string, { kind: string; line: number }>();
  for (const row of rows) {
    expect(row.cells, `docs/zk-schema.md line ${row.line}: a row needs ${HEADER.length} cells`).toHaveLength(HEADER.length);
    const [pathCell = '', kindCell = ''] = row.cells;
    const match = /^`([^`]+)`$/.exec(pathCell);
    expect(match, `docs/zk-schema.md line ${row.line}: the Path cell must be one path in backticks, got ${JSON.stringify(pathCell)}`).not.toBeNull();
    const path = match?.[1] as string;
    expect(byPath.has(path), `docs/zk-schema.md line ${row.line}: ${path} is listed twice`).toBe(false);
    byPath.set(path, { kind: kindCell.replace(/`/g, '').trim(), line: row.line });
  }
  return byPath;
}

describe('docs/zk-schema.md', () => {
  it('has a path table', () => {
    expect(tableRows().length).toBeGreaterThan(0);
  });

  it('lists every path of SCHEMA_DESCRIPTION with the same kind', () => {
    const doc = documented(tableRows());
    const missing = SCHEMA_DESCRIPTION.filter((entry) => !doc.has(entry.path)).map((entry) => entry.path);
    expect(missing, 'paths in SCHEMA_DESCRIPTION missing from the table in docs/zk-schema.md').toEqual([]);
    const wrongKind = SCHEMA_DESCRIPTION.filter((entry) => doc.has(entry.path) && doc.get(entry.path)?.kind !== entry.kind).map(
      (entry) => `${entry.path}: code says ${entry.kind}, docs/zk-schema.md line ${doc.get(entry.path)?.line} says ${doc.get(entry.path)?.kind}`,
    );
    expect(wrongKind, 'kinds that differ between SCHEMA_DESCRIPTION and docs/zk-schema.md').toEqual([]);
  });

  it('names no path under /pvc that SCHEMA_DESCRIPTION does not describe', () => {
    const unknown = tableRows().flatMap((row) =>
      row.cells
        .flatMap(codeSpans)
        .filter((span) => span.startsWith('/pvc') && !described.has(span))
        .map((span) => `line ${row.line}: ${span}`),
    );
    expect(unknown, 'backticked /pvc paths in the table of docs/zk-schema.md that are not in SCHEMA_DESCRIPTION').toEqual([]);
  });
});
