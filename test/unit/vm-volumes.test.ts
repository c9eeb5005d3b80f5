// The pure parts of the volume-use protocol (common/client/vm-volumes.ts): which rbd disks a spec
// write adds (only those are checked and claimed), the refusal of one volume twice, the
// `leaving` mark in the volume spec's codec, and a renamed volume's spec starting unmarked.
import { describe, expect, it } from 'vitest';
import { addedRbdDisks, rbdDisks, withoutLeaving } from '../../common/client/vm-volumes.ts';
import { VolumeSpecDoc, type VmSpec } from '../../common/zk/schema.ts';
import { FULL_SPEC } from '../helpers/vm-fixtures.ts';
import { thrown } from '../helpers/thrown.ts';

const rbd = (target: string, image: string, pool = 'vms') => ({ target, source: { type: 'rbd' as const, pool, image } });
const withDisks = (...disks: VmSpec['disks']): VmSpec => ({ ...FULL_SPEC, disks });

describe('rbd disks of a spec', () => {
  it('lists the rbd disks only, as pool/volume', () => {
    expect(rbdDisks(FULL_SPEC)).toEqual([{ target: 'vda', key: 'vms/web1_disk0', ref: { pool: 'vms', volume: 'web1_disk0' } }]);
    expect(rbdDisks(null)).toEqual([]);
  });

  it('adds every rbd disk of a new spec, and only the new ones of a changed spec', () => {
    expect(addedRbdDisks(withDisks(rbd('vda', 'a'), rbd('vdb', 'b')), null).map((d) => d.key)).toEqual(['vms/a', 'vms/b']);
    const before = withDisks(rbd('vda', 'a'));
    // The same volume under another target is kept, not added; a volume of another pool is new.
    expect(addedRbdDisks(withDisks(rbd('vdc', 'a'), rbd('vdb', 'b'), rbd('vdd', 'a', 'ssd')), before).map((d) => d.key)).toEqual(['vms/b', 'ssd/a']);
    expect(addedRbdDisks(withDisks(), before)).toEqual([]);
  });

  it('refuses one volume as two disks, naming both', () => {
    const error = thrown(() => addedRbdDisks(withDisks(rbd('vda', 'a'), rbd('vdb', 'a')), null));
    expect(error.code).toBe('bad-input');
    expect(error.message).toBe('vm web1: disks vda and vdb are both volume vms/a; give each disk its own volume');
  });
});

describe('the leaving mark', () => {
  const spec = { name: 'd1', pool: 'vms', sizeBytes: 1024 ** 3, parent: null };

  it('is optional (specs written before it exist), remove or rename', () => {
    expect(VolumeSpecDoc.parse(spec)).toEqual(spec);
    expect(VolumeSpecDoc.parse({ ...spec, leaving: 'remove' }).leaving).toBe('remove');
    expect(VolumeSpecDoc.parse({ ...spec, leaving: 'rename' }).leaving).toBe('rename');
    expect(VolumeSpecDoc.safeParse({ ...spec, leaving: 'resize' }).success).toBe(false);
  });

  it('is not carried to a renamed volume', () => {
    expect(withoutLeaving({ ...spec, leaving: 'rename' })).toEqual(spec);
    expect('leaving' in withoutLeaving({ ...spec, leaving: 'rename' })).toBe(false);
  });
});
