// The CLI's output module: format names, aligned tables, key-value blocks, the three renderings
// of the same data, and the tables of each command.
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { clusterStatusTable } from '../../cli/cluster.ts';
import { connectionListTable } from '../../cli/connection.ts';
import { handoverText, nodeInfoTable, nodeListTable } from '../../cli/node.ts';
import { cellText, formatFields, formatTable, parseFormat, print, printError, renderText, setTerminal } from '../../cli/output.ts';
import type { HandoverResult } from '../../common/client/handover.ts';
import type { ClusterStatusView, NodeView } from '../../common/client/views.ts';
import { thrown } from '../helpers/thrown.ts';


const NODE: NodeView = {
  name: 'coord1',
  role: 'coordinator',
  daemonState: 'dead',
  coordinatorState: 'secondary',
  alive: false,
  reportedDaemonState: 'run',
  pvcdVersion: '0.1.0',
  pid: 99,
  updatedAtMs: 0,
  host: { cores: 8, loadAvg: [1.5, 1, 0.5], memoryTotalMiB: 16384, memoryUsedMiB: 4096, memoryFreeMiB: 12288, uptimeS: 60 },
  domainState: 'ready',
  hypervisor: null,
};
const BARE: NodeView = { ...NODE, name: 'hv10', role: 'hypervisor', daemonState: 'init', coordinatorState: 'client', reportedDaemonState: null, pvcdVersion: null, pid: null, updatedAtMs: null, host: null };

describe('parseFormat', () => {
  it.each(['table', 'json', 'yaml'])('accepts %s', (format) => {
    expect(parseFormat(format)).toBe(format);
  });

  it.each(['xml', '', 'JSON', 'tab'])('refuses %j, naming it', (format) => {
    const error = thrown(() => parseFormat(format));
    expect(error.code).toBe('bad-input');
    expect(error.message).toBe(`invalid format ${JSON.stringify(format)}: use one of table, json, yaml`);
  });
});

describe('formatTable', () => {
  it('pads every column to its widest cell, right-aligns where asked, and trims line ends', () => {
    const text = formatTable(
      [
        { header: 'NAME', value: (r: { name: string; n: number | null }) => r.name },
        { header: 'N', value: (r) => r.n, align: 'right' },
        { header: 'LAST', value: () => '' },
      ],
      [
        { name: 'a', n: 1 },
        { name: 'longer', n: 1234 },
        { name: 'b', n: null },
      ],
    );
    expect(text.split('\n')).toEqual(['NAME       N  LAST', 'a          1  -', 'longer  1234  -', 'b          -  -']);
  });

  it('shows only the header for no rows', () => {
    expect(formatTable([{ header: 'NAME', value: (r: string) => r }], [])).toBe('NAME');
  });

  it('writes empty, null and boolean cells readably', () => {
    expect([cellText(null), cellText(undefined), cellText(''), cellText(true), cellText(false), cellText(0)]).toEqual(['-', '-', '-', 'yes', 'no', '0']);
  });
});

describe('formatFields', () => {
  it('aligns the values after the longest key', () => {
    expect(formatFields([['a', 1], ['longer key', 'x'], ['gone', null]])).toBe('a           1\nlonger key  x\ngone        -');
  });
});

describe('renderText', () => {
  const data = [{ name: 'a', n: 1 }];

  it('renders json that parses back to the data', async () => {
    expect(JSON.parse(await renderText(data, 'json', () => 'table'))).toEqual(data);
  });

  it('renders yaml that parses back to the data', async () => {
    expect(parseYaml(await renderText(data, 'yaml', () => 'table'))).toEqual(data);
  });

  it('renders the table through the given function', async () => {
    expect(await renderText(data, 'table', () => 'the table')).toBe('the table');
  });
});

describe('the terminal', () => {
  let restore: () => void = () => undefined;
  afterEach(() => restore());

  it('ends printed text with one newline and prefixes errors with pvc:', () => {
    const out: string[] = [];
    const err: string[] = [];
    restore = setTerminal({ out: (t) => out.push(t), err: (t) => err.push(t) });
    print('one');
    print('two\n');
    printError('bad thing  \n');
    expect(out).toEqual(['one\n', 'two\n']);
    expect(err).toEqual(['pvc: bad thing\n']);
  });
});

describe('command tables', () => {
  it('lists nodes in aligned columns, with - for what is not known', () => {
    const lines = nodeListTable([NODE, BARE]).split('\n');
    expect(lines[0]).toBe('NAME    ROLE         DAEMON  COORDINATOR  DOMAIN  PVCD   CORES  LOAD  MEM USED/TOTAL MiB');
    expect(lines[1]).toBe('coord1  coordinator  dead    secondary    ready   0.1.0      8  1.50          4096/16384');
    expect(lines[2]).toBe('hv10    hypervisor   init    client       ready   -          -     -                   -');
    expect(nodeListTable([])).toBe('no nodes registered yet');
  });

  it('shows a node, with the reported state when it differs from the shown one', () => {
    const text = nodeInfoTable(NODE);
    expect(text).toContain('daemon state       dead (reports run)');
    expect(text).toContain('coordinator state  secondary');
    expect(text).toContain('memory MiB         4096 used, 12288 free, 16384 total');
    expect(text).toContain('status written at  1970-01-01T00:00:00.000Z');
    expect(nodeInfoTable(BARE)).toContain('daemon state       init\n');
  });

  it('shows the cluster status with the zookeeper servers', () => {
    const status: ClusterStatusView = {
      cluster: 'prod',
      schemaVersion: 1,
      primary: null,
      nodes: { total: 3, coordinators: 2, hypervisors: 1, byDaemonState: { init: 0, run: 2, shutdown: 0, stop: 0, dead: 1, fenced: 0 } },
      zookeeper: [
        { server: 'zk1:2181', mode: 'leader' },
        { server: 'zk2:2181', mode: 'unreachable' },
      ],
      defaultVmSelector: 'memprov',
    };
    expect(clusterStatusTable(status).split('\n')).toEqual([
      'cluster              prod',
      'schema version       1',
      'primary              none (election in progress)',
      'nodes                3 (2 coordinators, 1 hypervisors)',
      'daemon states        2 run, 1 dead',
      'default vm selector  memprov',
      '',
      'ZOOKEEPER SERVER  MODE',
      'zk1:2181          leader',
      'zk2:2181          unreachable',
    ]);
  });

  it('never shows a password in the connection list', () => {
    const text = connectionListTable([{ name: 'lab', hosts: 'zk1:2181', cluster: 'lab', user: 'pvc', default: true }]);
    expect(text.split('\n')).toEqual(['NAME  DEFAULT  HOSTS     CLUSTER  USER  SESSION TIMEOUT MS', 'lab   *        zk1:2181  lab      pvc                    -']);
  });

  it('tells what a handover did', () => {
    const base: HandoverResult = { node: 'c2', outcome: 'completed', previousPrimary: 'c1', primary: 'c2', request: { from: 'c1', to: 'c2' }, replacedRequest: null, elapsedMs: 812 };
    expect(handoverText(base, 'primary')).toBe('node c2 is primary now (was c1), after 812 ms');
    expect(handoverText({ ...base, outcome: 'already', primary: 'c2', request: null }, 'primary')).toBe('node c2 is already primary; nothing changed');
    expect(handoverText({ ...base, node: 'c1', outcome: 'already', primary: 'c3', request: null }, 'secondary')).toBe('node c1 is already secondary (primary: c3); nothing changed');
    expect(handoverText({ ...base, outcome: 'requested', primary: 'c1', replacedRequest: { from: 'c1', to: null } }, 'primary')).toBe(
      'requested handover from c1 to c2; not waiting\nreplaced the pending request {from: c1, to: null}',
    );
  });
});
