// `pvc vm` without a cluster: wrong command lines are refused (exit 1, the value named) before
// any connection is tried, the argument parsers, and the text of each result for people.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { parseCount, readDefinitionFile, waitMsOf } from '../../cli/vm-args.ts';
import { LIST_REASON_MAX_CHARS, modifyText, setStateText, vmInfoTable, vmListTable } from '../../cli/vm-tables.ts';
import type { SetStateResult } from '../../common/client/vm-state.ts';
import { vmInfoView, vmView } from '../../common/client/vm-views.ts';
import { FULL_SPEC } from '../helpers/vm-fixtures.ts';
import { useCliSandbox } from '../helpers/cli-sandbox.ts';
import { thrown } from '../helpers/thrown.ts';

// A connection to a port nobody listens on: a command that got as far as connecting would
// fail with exit 2, so exit 1 proves it was refused before.
const sb = useCliSandbox('pvc-vm-args-', 'default: nowhere\nconnections:\n  - {name: nowhere, hosts: "127.0.0.1:1", cluster: c, user: u, password: p}\n');

describe('wrong vm command lines exit 1 with pvc: <message>, before connecting', () => {
  it.each([
    [['vm', 'list', '--state', 'running'], 'pvc: invalid state filter "running": use one of start, stop'],
    [['vm', 'list', '--node', 'Hv1'], 'pvc: invalid node name "Hv1"'],
    [['vm', 'list', '--format', 'xml'], 'pvc: invalid format "xml"'],
    [['vm', 'info', 'Web_1'], 'pvc: invalid vm name "Web_1"'],
    [['vm', 'start', 'web1', '--wait-ms', 'soon'], 'pvc: invalid --wait-ms "soon"'],
    [['vm', 'stop', 'web1', '--wait-ms', '99999999'], 'pvc: invalid --wait-ms "99999999": use a whole number from 0 to 3600000'],
    [['vm', 'log', 'web1', '--lines', '0'], 'pvc: invalid --lines "0": use a whole number from 1 to 100000'],
    [['vm', 'log', 'web1', '--lines', 'all'], 'pvc: invalid --lines "all"'],
    [['vm', 'define', '/nonexistent/web1.yaml'], 'pvc: cannot read definition file /nonexistent/web1.yaml'],
    [['vm', 'define', 'x.yaml', '--node', 'BAD'], 'pvc: invalid node name "BAD"'],
    [['vm', 'modify', 'web1'], "pvc: missing required argument 'file'"],
    [['vm', 'remove', 'web1'], 'pvc: not removing vm web1 without confirmation: give --yes'],
    [['vm', 'migrate', 'web1', '--target', 'Bad_Node'], 'pvc: invalid node name "Bad_Node"'],
  ])('%j', async (args, message) => {
    expect(await main(args)).toBe(1);
    expect(sb.err).toContain(message);
    expect(sb.out).toBe('');
  });

  it('refuses a definition file that is not a vm definition, naming the problem', async () => {
    const file = path.join(sb.dir, 'bad.yaml');
    fs.writeFileSync(file, 'name: web1\nvcpus: many\n');
    expect(await main(['vm', 'define', file])).toBe(1);
    expect(sb.err).toContain('pvc: invalid vm definition "web1": vcpus');
  });

  it('reaches the connection (exit 2) once the arguments are right', async () => {
    expect(await main(['vm', 'list', '--state', 'unplaced'])).toBe(2);
    expect(sb.err).toContain('cannot reach zookeeper at 127.0.0.1:1');
  });
});

describe('argument parsers', () => {
  it('parseCount takes whole numbers in range only', () => {
    expect(parseCount('--lines', ' 20 ', 1, 100)).toBe(20);
    for (const bad of ['-1', '1.5', '', '101', '1e2']) expect(thrown(() => parseCount('--lines', bad, 1, 100)).message).toContain(`invalid --lines ${JSON.stringify(bad)}`);
  });

  it('waitMsOf: --wait-ms implies waiting, --wait alone takes the default, neither does not wait', () => {
    expect(waitMsOf({}, 5_000, 10_000)).toBe(0);
    expect(waitMsOf({ wait: true }, 5_000, 10_000)).toBe(5_000);
    expect(waitMsOf({ waitMs: '250' }, 5_000, 10_000)).toBe(250);
    expect(waitMsOf({ wait: true, waitMs: '0' }, 5_000, 10_000)).toBe(0);
  });

  it('readDefinitionFile reads a file or stdin, and refuses one that is too large', () => {
    const file = path.join(sb.dir, 'def.yaml');
    fs.writeFileSync(file, 'name: web1\n');
    expect(readDefinitionFile(file, 100)).toBe('name: web1\n');
    expect(readDefinitionFile('-', 100, () => 'from stdin')).toBe('from stdin');
    expect(thrown(() => readDefinitionFile(file, 4)).message).toBe(`definition file ${file} is 11 bytes, more than the 4 allowed`);
  });
});

describe('vm tables', () => {
  const facts = { spec: { value: FULL_SPEC, version: 0 }, status: { state: 'fail' as const, node: 'hv1', failureReason: `no such file ${'x'.repeat(100)}`, stats: null, updatedAtMs: 0 }, unplaced: null };

  it('lists VMs with a cut reason, and says when there are none', () => {
    const table = vmListTable([vmView(facts)], false);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+STATE\s+DESIRED\s+NODE\s+LAST NODE\s+VCPUS\s+MEM MiB\s+TAGS\s+REASON$/);
    expect(table).toContain('web1  fail');
    expect(table).toContain('web,prod');
    const reason = table.split('\n')[1]?.split('  ').at(-1) ?? '';
    expect(reason.length).toBe(LIST_REASON_MAX_CHARS);
    expect(reason.endsWith('...')).toBe(true);
    expect(vmListTable([], false)).toBe('no vms defined yet');
    expect(vmListTable([], true)).toBe('no vm matches the filter');
  });

  it('shows one VM in full', () => {
    const info = vmInfoTable(vmInfoView(facts));
    expect(info).toMatch(/^name\s+web1$/m);
    expect(info).toMatch(/^failure reason\s+no such file x{100}$/m);
    expect(info).toMatch(/^disks\s+vda=rbd:vms\/web1_disk0 sdb=file:\/srv\/images\/web1-data.img$/m);
    expect(info).toMatch(/^node limit\s+hv1, hv2$/m);
  });

  it('says what a state change did', () => {
    const base: SetStateResult = { name: 'web1', action: 'start', outcome: 'completed', previousDesiredState: 'stop', resetFailure: true, state: 'start', node: 'hv1', elapsedMs: 812 };
    expect(setStateText(base)).toBe('vm web1 is start on node hv1 after 812 ms; cleared its failure so that its node tries again');
    expect(setStateText({ ...base, outcome: 'requested', resetFailure: false })).toBe('asked vm web1 to start (desired state was stop); not waiting (pvc vm info web1 shows progress)');
    expect(setStateText({ ...base, outcome: 'already' })).toBe('vm web1 was already asked to start; nothing changed; it is start on node hv1');
    expect(modifyText({ name: 'web1', changed: true, takesEffectAtNextStart: true, spec: FULL_SPEC })).toContain('takes effect at its next start');
  });
});
