// PVC_LOCAL_CEPH, the documented switch that makes `npm run cluster` skip Ceph: unset or on
// brings Ceph up, 0/false/no/off skips it, anything else is refused with the value named.
import { describe, expect, it } from 'vitest';
import { localCephWanted } from '../../scripts/lib/local-cluster.ts';

describe('PVC_LOCAL_CEPH', () => {
  it('brings ceph up unless told otherwise', () => {
    for (const value of [undefined, '', '1', 'true', 'YES', ' on ']) expect(localCephWanted({ PVC_LOCAL_CEPH: value })).toBe(true);
  });

  it('skips ceph for 0, false, no and off', () => {
    for (const value of ['0', 'false', 'No', 'off']) expect(localCephWanted({ PVC_LOCAL_CEPH: value })).toBe(false);
  });

  it('refuses any other value, naming it', () => {
    expect(() => localCephWanted({ PVC_LOCAL_CEPH: 'maybe' })).toThrow('invalid PVC_LOCAL_CEPH "maybe": use 0 to skip ceph, or 1 (the default)');
  });
});
