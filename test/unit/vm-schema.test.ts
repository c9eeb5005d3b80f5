// The VM codecs: a full spec and status are accepted unchanged, and every rule refuses what
// must never be stored (so a broken value cannot reach libvirt through ZooKeeper).
import { describe, expect, it } from 'vitest';
import { VM_MAX_VCPUS, VM_MIN_MEMORY_MIB, VmSpecDoc, VmStatusDoc, defaultVmSelectorOf, type VmSpec, type VmStatus } from '../../common/zk/schema.ts';
import { FULL_SPEC, TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';

const STATUS: VmStatus = {
  state: 'start',
  node: 'hv1',
  failureReason: null,
  stats: { cpuTimeMs: 1200, memoryMiB: 2048, diskReadBytes: 1, diskWriteBytes: 2, netRxBytes: 3, netTxBytes: 4 },
  updatedAtMs: 1_700_000_000_000,
};

describe('vm codecs', () => {
  it('accept a full spec and status unchanged', () => {
    expect(VmSpecDoc.parse(FULL_SPEC)).toEqual(FULL_SPEC);
    expect(VmSpecDoc.parse(TEST_GUEST_SPEC)).toEqual(TEST_GUEST_SPEC);
    expect(VmSpecDoc.parse({ ...FULL_SPEC, rawXml: '<domain/>' })).toEqual({ ...FULL_SPEC, rawXml: '<domain/>' });
    const kernel = { kind: 'kernel', kernel: '/srv/guest/vmlinuz', initrd: null, cmdline: '' } as const;
    expect(VmSpecDoc.parse({ ...FULL_SPEC, boot: kernel }).boot).toEqual(kernel);
    expect(VmStatusDoc.parse(STATUS)).toEqual(STATUS);
    expect(VmStatusDoc.parse({ ...STATUS, state: 'fail', failureReason: 'qemu exited', stats: null }).state).toBe('fail');
  });

  const spec = (change: Partial<Record<keyof VmSpec, unknown>>): unknown => ({ ...FULL_SPEC, ...change });
  const cases: Array<[string, unknown]> = [
    ['an upper-case name', spec({ name: 'Web1' })],
    ['an upper-case uuid', spec({ uuid: '6D1C0A4E-0000-4000-8000-000000000003' })],
    ['0 vcpus', spec({ vcpus: 0 })],
    [`${VM_MAX_VCPUS + 1} vcpus`, spec({ vcpus: VM_MAX_VCPUS + 1 })],
    ['fractional memory', spec({ memoryMiB: 128.5 })],
    [`memory below ${VM_MIN_MEMORY_MIB} MiB`, spec({ memoryMiB: VM_MIN_MEMORY_MIB - 1 })],
    ['a disk target hda', spec({ disks: [{ target: 'hda', source: { type: 'file', path: '/a' } }] })],
    ['two disks on one target', spec({ disks: [{ target: 'vda', source: { type: 'file', path: '/a' } }, { target: 'vda', source: { type: 'file', path: '/b' } }] })],
    ['a relative file path', spec({ disks: [{ target: 'vda', source: { type: 'file', path: 'a.img' } }] })],
    ['a control character in a path', spec({ disks: [{ target: 'vda', source: { type: 'file', path: '/a\u0001' } }] })],
    ['an rbd image with a slash', spec({ disks: [{ target: 'vda', source: { type: 'rbd', pool: 'vms', image: 'a/b' } }] })],
    ['an rbd snapshot', spec({ disks: [{ target: 'vda', source: { type: 'rbd', pool: 'vms', image: 'a@snap' } }] })],
    ['an unknown disk type', spec({ disks: [{ target: 'vda', source: { type: 'iscsi', path: '/a' } }] })],
    ['a multicast mac', spec({ nics: [{ network: 'n', mac: '01:00:5e:00:00:01' }] })],
    ['an upper-case mac', spec({ nics: [{ network: 'n', mac: '52:54:00:AA:BB:CC' }] })],
    ['a mac used twice', spec({ nics: [{ network: 'a', mac: '52:54:00:00:00:01' }, { network: 'b', mac: '52:54:00:00:00:01' }] })],
    ['kernel boot without cmdline', spec({ boot: { kind: 'kernel', kernel: '/k', initrd: null } })],
    ['a newline in the cmdline', spec({ boot: { kind: 'kernel', kernel: '/k', initrd: null, cmdline: 'a\u000bb' } })],
    ['an unknown boot kind', spec({ boot: { kind: 'cdrom' } })],
    ['an unknown selector', spec({ placement: { ...FULL_SPEC.placement, selector: 'random' } })],
    ['a node listed twice in node_limit', spec({ placement: { ...FULL_SPEC.placement, nodeLimit: ['hv1', 'hv1'] } })],
    ['an unknown migration method', spec({ placement: { ...FULL_SPEC.placement, migrationMethod: 'offline' } })],
    ['a zero max downtime', spec({ placement: { ...FULL_SPEC.placement, maxDowntimeMs: 0 } })],
    ['a tag with a space', spec({ tags: ['a b'] })],
    ['a tag twice', spec({ tags: ['a', 'a'] })],
    ['an unknown desired state', spec({ desiredState: 'running' })],
    ['an invalid node', spec({ node: 'HV1' })],
    ['an extra field', { ...FULL_SPEC, extra: 1 }],
    ['a missing lastNode', (({ lastNode: _l, ...rest }) => rest)(FULL_SPEC)],
    ['raw xml over the limit', spec({ rawXml: 'x'.repeat(256 * 1024 + 1) })],
  ];

  it.each(cases)('refuse a spec with %s', (_what, value) => {
    expect(VmSpecDoc.safeParse(value).success).toBe(false);
  });

  it.each<[string, unknown]>([
    ['an unknown state', { ...STATUS, state: 'running' }],
    ['no node', { ...STATUS, node: null }],
    ['negative stats', { ...STATUS, stats: { ...STATUS.stats, cpuTimeMs: -1 } }],
  ])('refuse a status with %s', (_what, value) => {
    expect(VmStatusDoc.safeParse(value).success).toBe(false);
  });

  it('falls back to the default selector for a cluster made before schema version 2', () => {
    expect(defaultVmSelectorOf({ name: 'c1' })).toBe('mem');
    expect(defaultVmSelectorOf({ name: 'c1', defaultVmSelector: 'load' })).toBe('load');
  });
});
