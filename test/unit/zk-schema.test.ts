// The schema module: which names are accepted, where every path is, how election children are
// parsed, and that every codec refuses what must never be stored.
import { describe, expect, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import { assertName, isValidName } from '../../common/names.ts';
import {
  AliveDoc,
  CandidateDoc,
  ClusterDoc,
  DirDoc,
  HandoverDoc,
  NAMESPACE_PATH,
  NodeSpecDoc,
  NodeStatusDoc,
  PrimaryDoc,
  SCHEMA_DESCRIPTION,
  SchemaVersionDoc,
  ZkLayout,
  lastPathSegment,
  parseCandidateName,
  type NodeStatus,
} from '../../common/zk/schema.ts';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const GOOD_NAMES = ['a', '0', 'hv1', 'node-1', 'a-b-c', '9lives', 'x'.repeat(63)];
const BAD_NAMES: unknown[] = ['', 'HV1', 'Hv1', '-a', 'a-', 'a_b', 'a.b', 'a b', 'ä', 'x'.repeat(64), 'a/b', '..', 42, null, undefined];

describe('names', () => {
  it.each(GOOD_NAMES)('accepts %j', (name) => {
    expect(isValidName(name)).toBe(true);
    expect(assertName('node', name)).toBe(name);
  });

  it.each(BAD_NAMES)('refuses %j, naming the wrong value', (name) => {
    const error = thrown(() => assertName('node', name));
    expect(error).toBeInstanceOf(PvcError);
    expect((error as PvcError).code).toBe('bad-input');
    expect((error as PvcError).message).toContain(`invalid node name ${JSON.stringify(name)}`);
  });

  it('refuses a bad cluster name in ZkLayout and a bad node name in its paths', () => {
    const clusterError = thrown(() => new ZkLayout('Prod_1'));
    expect((clusterError as PvcError).code).toBe('bad-input');
    expect((clusterError as PvcError).message).toContain('invalid cluster name "Prod_1"');
    const layout = new ZkLayout('prod');
    for (const make of [(n: string) => layout.node(n), (n: string) => layout.nodeStatus(n), (n: string) => layout.nodeAlive(n)]) {
      const error = thrown(() => make('../escape'));
      expect((error as PvcError).code).toBe('bad-input');
      expect((error as PvcError).message).toContain('"../escape"');
    }
  });
});

describe('layout', () => {
  const layout = new ZkLayout('c1');

  it('puts every path of a cluster under /pvc/<cluster>', () => {
    expect(NAMESPACE_PATH).toBe('/pvc');
    expect(layout.root).toBe('/pvc/c1');
    expect(layout.namespace().path).toBe('/pvc');
    expect(layout.clusterRoot().path).toBe('/pvc/c1');
    expect(layout.schemaDir().path).toBe('/pvc/c1/schema');
    expect(layout.schemaVersion().path).toBe('/pvc/c1/schema/version');
    expect(layout.clusterInfo().path).toBe('/pvc/c1/cluster');
    expect(layout.nodesDir().path).toBe('/pvc/c1/nodes');
    expect(layout.node('hv1').path).toBe('/pvc/c1/nodes/hv1');
    expect(layout.nodeStatus('hv1').path).toBe('/pvc/c1/nodes/hv1/status');
    expect(layout.nodeAlive('hv1').path).toBe('/pvc/c1/nodes/hv1/alive');
    expect(layout.coordinatorDir().path).toBe('/pvc/c1/coordinator');
    expect(layout.electionDir().path).toBe('/pvc/c1/coordinator/election');
    expect(layout.newCandidate('hv1').path).toBe('/pvc/c1/coordinator/election/hv1_');
    expect(layout.candidate('hv1_0000000007').path).toBe('/pvc/c1/coordinator/election/hv1_0000000007');
    expect(layout.primary().path).toBe('/pvc/c1/coordinator/primary');
    expect(layout.handover().path).toBe('/pvc/c1/coordinator/handover');
    expect(layout.vmsDir().path).toBe('/pvc/c1/vms');
    expect(layout.vm('web-1').path).toBe('/pvc/c1/vms/web-1');
    expect(layout.vmStatus('web-1').path).toBe('/pvc/c1/vms/web-1/status');
  });

  it('refuses a vm name that is not a valid name, naming it', () => {
    for (const bad of ['../x', 'Web1', "a'\"<b>&", '']) {
      expect(() => layout.vm(bad)).toThrow(`invalid vm name ${JSON.stringify(bad)}`);
      expect(() => layout.vmStatus(bad)).toThrow(JSON.stringify(bad));
    }
  });

  it('keeps two clusters apart', () => {
    expect(new ZkLayout('a').node('n').path).not.toBe(new ZkLayout('b').node('n').path);
  });

  it('lists the base directories parents first', () => {
    const paths = layout.baseDirectories().map((ref) => ref.path);
    expect(paths[0]).toBe('/pvc/c1');
    paths.forEach((p, i) => {
      const parent = p.slice(0, p.lastIndexOf('/'));
      if (parent !== NAMESPACE_PATH) expect(paths.slice(0, i)).toContain(parent);
    });
    expect(paths).toEqual(expect.arrayContaining(['/pvc/c1/schema', '/pvc/c1/nodes', '/pvc/c1/coordinator', '/pvc/c1/coordinator/election']));
  });

  it('describes every path it builds in SCHEMA_DESCRIPTION', () => {
    const described = new Set(SCHEMA_DESCRIPTION.map((entry) => entry.path));
    const generic = (p: string): string =>
      p
        .replace(/^\/pvc\/c1/, '/pvc/<cluster>')
        .replace(/\/nodes\/hv1/, '/nodes/<node>')
        .replace(/\/hv1_\d{10}$/, '/<node>_<seq>')
        .replace(/\/vms\/vm1/, '/vms/<vm>')
        .replace(/\/pools\/p1/, '/pools/<pool>')
        .replace(/\/volumes\/v1/, '/volumes/<volume>')
        .replace(/\/snapshots\/s1(?=\/status$|$)/, '/snapshots/<snapshot>')
        .replace(/\/osds\/\d+$/, '/osds/<osd>')
        .replace(/\/reservations\/p1@\d{10}$/, '/reservations/<pool>@<seq>')
        .replace(/\/networks\/lan/, '/networks/<network>')
        .replace(/\/(reservations|leases)\/525400123456$/, '/$1/<mac>')
        .replace(/\/acls\/ssh$/, '/acls/<acl>')
        .replace(/\/faults\/f1$/, '/faults/<fault>');
    const mac = '52:54:00:12:34:56';
    const refs = [
      layout.namespace(), layout.clusterRoot(), layout.schemaDir(), layout.schemaVersion(), layout.clusterInfo(), layout.nodesDir(),
      layout.node('hv1'), layout.nodeStatus('hv1'), layout.nodeAlive('hv1'), layout.coordinatorDir(), layout.electionDir(),
      layout.candidate('hv1_0000000001'), layout.primary(), layout.handover(), layout.vmsDir(), layout.vm('vm1'), layout.vmStatus('vm1'), layout.vmUnplaced('vm1'),
      layout.storageDir(), layout.storageSettings(), layout.storageStatus(), layout.poolsDir(), layout.pool('p1'), layout.poolStatus('p1'),
      layout.volumesDir('p1'), layout.volume('p1', 'v1'), layout.volumeStatus('p1', 'v1'), layout.snapshotsDir('p1', 'v1'), layout.snapshot('p1', 'v1', 's1'), layout.snapshotStatus('p1', 'v1', 's1'),
      layout.osdsDir(), layout.osd(3), layout.reservationsDir(), layout.reservation('p1@0000000001'),
      layout.networksDir(), layout.network('lan'), layout.networkReservationsDir('lan'), layout.networkReservation('lan', mac), layout.networkLeasesDir('lan'),
      layout.networkLease('lan', mac), layout.networkAclsDir('lan'), layout.networkAcl('lan', 'ssh'), layout.clusterNetwork(),
      layout.nodeBmc('hv1'), layout.nodeBmcSecret('hv1'), layout.nodeFence('hv1'), layout.haDir(), layout.maintenance(), layout.faultsDir(), layout.fault('f1'),
    ];
    for (const ref of refs) expect(described, ref.path).toContain(generic(ref.path));
    expect(new Set(refs.map((ref) => generic(ref.path)))).toEqual(described);
  });

  it('gives the last segment of a path', () => {
    expect(lastPathSegment('/pvc/c1/coordinator/election/hv1_0000000003')).toBe('hv1_0000000003');
    expect(lastPathSegment('/pvc')).toBe('pvc');
  });
});

describe('election candidate names', () => {
  it('parses the node and the sequence ZooKeeper appended', () => {
    expect(parseCandidateName('hv1_0000000000')).toEqual({ childName: 'hv1_0000000000', node: 'hv1', seq: 0 });
    expect(parseCandidateName('node-2_0000000042')).toEqual({ childName: 'node-2_0000000042', node: 'node-2', seq: 42 });
    expect(parseCandidateName('a_2147483647').seq).toBe(2147483647);
  });

  it('reads back what a sequential create under newCandidate() produces', () => {
    const layout = new ZkLayout('c1');
    const created = `${layout.newCandidate('hv3').path}0000000012`;
    const parsed = parseCandidateName(lastPathSegment(created));
    expect(parsed).toEqual({ childName: 'hv3_0000000012', node: 'hv3', seq: 12 });
    expect(layout.candidate(parsed.childName).path).toBe(created);
  });

  it.each(['hv1_42', 'hv1_', '_0000000001', 'HV1_0000000001', 'hv1_00000000001', 'hv1_000000000a', ' hv1_0000000001', 'hv1_0000000001/x', 'n-_0000000001', ''])(
    'refuses %j, naming it',
    (name) => {
      const error = thrown(() => parseCandidateName(name));
      expect((error as Error).message).toContain(JSON.stringify(name));
      expect(() => new ZkLayout('c1').candidate(name)).toThrow(JSON.stringify(name));
    },
  );

  it('refuses a candidate prefix for an invalid node name', () => {
    expect(() => new ZkLayout('c1').newCandidate('Bad')).toThrow('"Bad"');
  });
});

describe('codecs', () => {
  const status: NodeStatus = {
    daemonState: 'run',
    coordinatorState: 'primary',
    pvcdVersion: '0.1.0',
    pid: 1234,
    keepaliveSeq: 7,
    updatedAtMs: 1_700_000_000_000,
    host: { cores: 2, loadAvg: [0.1, 0.2, 0.3], memoryTotalMiB: 1024, memoryUsedMiB: 512, memoryFreeMiB: 512, uptimeS: 10 },
  };

  it('accept valid documents unchanged', () => {
    expect(DirDoc.parse({})).toEqual({});
    expect(SchemaVersionDoc.parse({ version: 1 })).toEqual({ version: 1 });
    expect(ClusterDoc.parse({ name: 'c1' })).toEqual({ name: 'c1' });
    expect(ClusterDoc.parse({ name: 'c1', defaultVmSelector: 'vms' })).toEqual({ name: 'c1', defaultVmSelector: 'vms' });
    expect(NodeSpecDoc.parse({ name: 'hv1', role: 'coordinator' })).toEqual({ name: 'hv1', role: 'coordinator' });
    expect(NodeStatusDoc.parse(status)).toEqual(status);
    expect(AliveDoc.parse({ pid: 1, sessionId: '0100abcd' })).toEqual({ pid: 1, sessionId: '0100abcd' });
    expect(CandidateDoc.parse({ node: 'hv1' })).toEqual({ node: 'hv1' });
    expect(PrimaryDoc.parse({ node: 'hv1', sessionId: 'ab' })).toEqual({ node: 'hv1', sessionId: 'ab' });
    expect(HandoverDoc.parse({ from: 'hv1', to: null })).toEqual({ from: 'hv1', to: null });
  });

  const cases: Array<[string, { parse(raw: unknown): unknown }, unknown]> = [
    ['dir with a field', DirDoc, { x: 1 }],
    ['dir as null', DirDoc, null],
    ['schema version 0', SchemaVersionDoc, { version: 0 }],
    ['schema version 1.5', SchemaVersionDoc, { version: 1.5 }],
    ['schema version as text', SchemaVersionDoc, { version: '1' }],
    ['cluster with an invalid name', ClusterDoc, { name: 'Bad Name' }],
    ['cluster with an unknown default selector', ClusterDoc, { name: 'c1', defaultVmSelector: 'random' }],
    ['node spec with an upper-case name', NodeSpecDoc, { name: 'HV1', role: 'hypervisor' }],
    ['node spec with an unknown role', NodeSpecDoc, { name: 'hv1', role: 'storage' }],
    ['node spec with an extra field', NodeSpecDoc, { name: 'hv1', role: 'hypervisor', extra: true }],
    ['node status with an unknown daemon state', NodeStatusDoc, { ...status, daemonState: 'running' }],
    ['node status with a negative keepalive', NodeStatusDoc, { ...status, keepaliveSeq: -1 }],
    ['node status with two load averages', NodeStatusDoc, { ...status, host: { ...status.host, loadAvg: [1, 2] } }],
    ['node status without host', NodeStatusDoc, { ...status, host: undefined }],
    ['alive with pid 0', AliveDoc, { pid: 0, sessionId: 'ab' }],
    ['alive with an empty session', AliveDoc, { pid: 1, sessionId: '' }],
    ['candidate without node', CandidateDoc, {}],
    ['primary with an invalid node', PrimaryDoc, { node: '-x', sessionId: 'ab' }],
    ['handover without to', HandoverDoc, { from: 'hv1' }],
    ['a string', NodeSpecDoc, 'hv1'],
  ];

  it.each(cases)('refuse %s', (_what, codec, value) => {
    expect(() => codec.parse(value)).toThrow();
  });
});
