// The CLI's argument handling without a cluster: option parsers, the errors and exit codes of
// wrong command lines (refused before any connection is tried), and help for every command.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseMs, readPassword } from '../../cli/args.ts';
import { buildProgram, main } from '../../cli/main.ts';
import { useCliSandbox } from '../helpers/cli-sandbox.ts';
import { thrown } from '../helpers/thrown.ts';


const sb = useCliSandbox('pvc-args-');

describe('parseMs', () => {
  it('accepts whole milliseconds in range', () => {
    expect(parseMs('--wait-ms', '0', 0, 10)).toBe(0);
    expect(parseMs('--wait-ms', ' 10 ', 0, 10)).toBe(10);
  });

  it.each(['-1', '1.5', 'abc', '', '1e3', '11'])('refuses %j, naming the option and value', (value) => {
    const error = thrown(() => parseMs('--wait-ms', value, 0, 10));
    expect(error.code).toBe('bad-input');
    expect(error.message).toContain(`invalid --wait-ms ${JSON.stringify(value)}`);
  });
});

describe('readPassword', () => {
  it('takes --password as given', () => {
    expect(readPassword({ password: 'pw' })).toBe('pw');
  });

  it('reads the first line of --password-file, or stdin for -', () => {
    const file = path.join(sb.dir, 'pw');
    fs.writeFileSync(file, 'from-file\n');
    expect(readPassword({ passwordFile: file })).toBe('from-file');
    expect(readPassword({ passwordFile: '-' }, () => 'from-stdin\r\n')).toBe('from-stdin');
  });

  it('refuses both, neither, a missing file and a file of several lines', () => {
    expect(thrown(() => readPassword({ password: 'a', passwordFile: 'b' })).message).toBe('give either --password or --password-file, not both');
    expect(thrown(() => readPassword({})).message).toContain('missing password');
    expect(thrown(() => readPassword({ passwordFile: path.join(sb.dir, 'nope') })).message).toContain(`cannot read password file ${path.join(sb.dir, 'nope')}`);
    const multi = path.join(sb.dir, 'multi');
    fs.writeFileSync(multi, 'a\nb\n');
    expect(thrown(() => readPassword({ passwordFile: multi })).message).toContain('more than one line');
  });
});

describe('wrong command lines exit 1 with pvc: <message>, before connecting', () => {
  it.each([
    [['node', 'list', '--format', 'xml'], 'pvc: invalid format "xml": use one of table, json, yaml'],
    [['node', 'info', 'hv1', '--format', 'csv'], 'pvc: invalid format "csv"'],
    [['cluster', 'status', '--format', 'tab'], 'pvc: invalid format "tab"'],
    [['connection', 'list', '--format', 'xml'], 'pvc: invalid format "xml"'],
    [['node', 'info', 'Bad_Node'], 'pvc: invalid node name "Bad_Node"'],
    [['node', 'primary', 'c1', '--wait-ms', 'soon'], 'pvc: invalid --wait-ms "soon"'],
    [['node', 'secondary', 'c1', '--wait-ms', '-5'], 'pvc: invalid --wait-ms "-5"'],
    [['node', 'info'], "pvc: missing required argument 'node'"],
    [['node', 'frobnicate'], "pvc: unknown command 'frobnicate'"],
    [['node', 'list', '--bogus'], "pvc: unknown option '--bogus'"],
    [['connection', 'add', 'lab', '--hosts', 'h:1', '--cluster', 'c', '--user', 'u'], 'pvc: missing password'],
    [['connection', 'add', 'lab', '--hosts', 'nohost', '--cluster', 'c', '--user', 'u', '--password', 'p'], 'pvc: invalid zookeeper hosts "nohost"'],
    [['connection', 'add', 'lab', '--hosts', 'h:1', '--cluster', 'c', '--user', 'u', '--password', 'p', '--session-timeout-ms', '5'], 'pvc: invalid --session-timeout-ms "5"'],
    [['connection', 'remove', 'ghost'], 'pvc: unknown connection "ghost"'],
    [['--connection', 'ghost', 'node', 'list'], 'pvc: unknown connection "ghost" (from --connection)'],
    [['node', 'list'], 'pvc: no connection chosen'],
  ])('%j', async (args, message) => {
    expect(await main(args)).toBe(1);
    expect(sb.err).toContain(message);
    expect(sb.out).toBe('');
  });
});

describe('help', () => {
  function commandPaths(command: Command, prefix: string[] = []): string[][] {
    return command.commands.filter((c) => c.name() !== 'help').flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
  }

  const paths = commandPaths(buildProgram());

  it('covers every noun and verb', () => {
    expect(paths.map((p) => p.join(' '))).toEqual([
      'connection',
      'connection add',
      'connection list',
      'connection remove',
      'connection default',
      'cluster',
      'cluster status',
      'cluster set',
      'cluster network',
      'cluster network show',
      'cluster network set',
      'cluster maintenance',
      'cluster fault',
      'cluster fault list',
      'cluster fault ack',
      'node',
      'node list',
      'node info',
      'node primary',
      'node secondary',
      'node flush',
      'node ready',
      'node fence',
      'vm',
      'vm define',
      'vm modify',
      'vm remove',
      'vm list',
      'vm info',
      'vm dump',
      'vm start',
      'vm stop',
      'vm shutdown',
      'vm restart',
      'vm disable',
      'vm migrate',
      'vm unmigrate',
      'vm move',
      'vm log',
      'storage',
      'storage status',
      'storage util',
      'storage settings',
      'storage pool',
      'storage pool add',
      'storage pool remove',
      'storage pool list',
      'storage pool set',
      'storage volume',
      'storage volume add',
      'storage volume remove',
      'storage volume resize',
      'storage volume rename',
      'storage volume clone',
      'storage volume list',
      'storage volume info',
      'storage volume upload',
      'storage volume download',
      'storage volume snapshot',
      'storage volume snapshot add',
      'storage volume snapshot remove',
      'storage volume snapshot rollback',
      'storage volume snapshot protect',
      'storage volume snapshot unprotect',
      'storage volume snapshot list',
      'storage osd',
      'storage osd list',
      'storage osd add',
      'storage osd remove',
      'storage osd out',
      'storage osd in',
      'network',
      'network add',
      'network modify',
      'network remove',
      'network list',
      'network info',
      'network dhcp',
      'network dhcp list',
      'network dhcp add',
      'network dhcp remove',
      'network acl',
      'network acl add',
      'network acl remove',
      'network acl list',
    ]);
  });

  it.each([[[]] as [string[]], ...paths.map((p) => [p] as [string[]])])('pvc %j --help has a description, its options and examples, and exits 0', async (p) => {
    expect(await main([...p, '--help'])).toBe(0);
    expect(sb.out).toMatch(/^Usage: pvc/);
    expect(sb.out).toContain('Examples:\n  $ pvc ');
    const description = sb.out.split('\n')[2] ?? '';
    expect(description.trim().length).toBeGreaterThan(10);
    expect(sb.err).toBe('');
  });

  it('offers --format on every read command', () => {
    const program = buildProgram();
    for (const p of [['node', 'list'], ['node', 'info'], ['cluster', 'status'], ['connection', 'list'], ['vm', 'list'], ['vm', 'info']]) {
      const command = p.reduce<Command | undefined>((c, name) => c?.commands.find((s) => s.name() === name), program);
      expect(command?.options.map((o) => o.long)).toContain('--format');
    }
  });
});
