// The project's own rules, checked on its source: one door to ZooKeeper, one door to other
// programs, no ZooKeeper path built outside the schema module, no shell strings, small files.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../common/templates.ts';

const SOURCE_DIRS = ['common', 'daemon', 'cli', 'api', 'bootstrap', 'scripts', 'bin'];
const MAX_LINES_PER_FILE = 500;

function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|js)$/.test(entry)) files.push(path.relative(REPO_ROOT, full));
    }
  };
  for (const dir of SOURCE_DIRS) walk(path.join(REPO_ROOT, dir));
  return files.sort();
}

/** The code without its comments, so that prose may mention anything. */
function code(file: string): string {
  return readFileSync(path.join(REPO_ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const importers = (pattern: RegExp) => sourceFiles().filter((f) => pattern.test(code(f)));

describe('project rules', () => {
  it('only common/zk/store.ts (and its receive-buffer fix) imports node-zookeeper-client', () => {
    expect(importers(/from ['"]node-zookeeper-client['"/]|require\(['"]node-zookeeper-client/)).toEqual(['common/zk/receive-buffer-fix.ts', 'common/zk/store.ts']);
  });

  it('only common/exec.ts runs programs (execa, node:child_process)', () => {
    expect(importers(/from ['"](execa|node:child_process|child_process)['"]/)).toEqual(['common/exec.ts']);
  });

  it('no command is built as a shell string', () => {
    expect(importers(/shell:\s*true|execSync\(|\bexec\(['"`]/)).toEqual([]);
  });

  it('no ZooKeeper path is written outside the schema module', () => {
    const pathLiteral = /['"`]\/(pvc|schema|cluster|nodes|coordinator|election|primary|handover|status|alive|vms)(\/|['"`$])/;
    const offenders = sourceFiles().filter((f) => f !== 'common/zk/schema.ts' && pathLiteral.test(code(f)));
    expect(offenders).toEqual([]);
  });

  it(`no source file is longer than ${MAX_LINES_PER_FILE} lines`, () => {
    const long = sourceFiles().filter((f) => readFileSync(path.join(REPO_ROOT, f), 'utf8').split('\n').length > MAX_LINES_PER_FILE);
    expect(long).toEqual([]);
  });
});
