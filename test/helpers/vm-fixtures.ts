// Shared VM fixtures for unit tests: a full spec, node facts for rendering, and a deterministic
// random source (so generated uuids and MACs are the same on every run).
import type { RandomBytes } from '../../common/vm/random-ids.ts';
import type { DomainNodeFacts } from '../../common/vm/domain-xml.ts';
import type { VmSpec } from '../../common/zk/schema.ts';

export const FULL_SPEC: VmSpec = {
  name: 'web1',
  uuid: '6d1c0a4e-0000-4000-8000-000000000003',
  vcpus: 2,
  memoryMiB: 2048,
  disks: [
    { target: 'vda', source: { type: 'rbd', pool: 'vms', image: 'web1_disk0' } },
    { target: 'sdb', source: { type: 'file', path: '/srv/images/web1-data.img' } },
  ],
  nics: [
    { network: 'vni100', mac: '52:54:00:12:34:56' },
    { network: 'vni200', mac: '52:54:00:ab:cd:ef' },
  ],
  boot: { kind: 'disk' },
  serial: { log: true },
  placement: { nodeLimit: ['hv1', 'hv2'], selector: 'memprov', autostart: true, migrationMethod: 'live', maxDowntimeMs: 50 },
  tags: ['web', 'prod'],
  desiredState: 'start',
  node: 'hv1',
  lastNode: null,
};

/** The diskless test guest of shared/notes §11: direct kernel boot, serial console to a log. */
export const TEST_GUEST_SPEC: VmSpec = {
  name: 'tvm1',
  uuid: '6d1c0a4e-0000-4000-8000-000000000001',
  vcpus: 1,
  memoryMiB: 128,
  disks: [],
  nics: [],
  boot: { kind: 'kernel', kernel: '/srv/pvc/guest/vmlinuz', initrd: '/srv/pvc/guest/initrd.gz', cmdline: 'console=ttyS0 quiet panic=-1 stay=1' },
  serial: { log: true },
  placement: { nodeLimit: [], selector: null, autostart: false, migrationMethod: 'live', maxDowntimeMs: 300 },
  tags: [],
  desiredState: 'start',
  node: 'hv1',
  lastNode: null,
};

export const NODE_FACTS: DomainNodeFacts = {
  node: 'hv1',
  consoleLogDir: '/var/log/pvc/console',
  rbd: { monitors: [{ host: '10.0.0.1', port: 6789 }, { host: '10.0.0.2', port: 6789 }], user: 'libvirt', secretUuid: '5ec7e7a1-0000-4000-8000-00000000ce9f' },
  bridges: { vni100: 'vmbr100', vni200: 'vmbr200' },
};

/** Bytes 0, 1, 2, ... from `start`, wrapping at 256: predictable and never all alike. */
export function countingRandom(start = 0): RandomBytes {
  let next = start;
  return (size) => Uint8Array.from({ length: size }, () => next++ & 0xff);
}

/** The real test guest (scripts/lib/test-guest.ts) as an unplaced VM that should start; `stay` keeps it up. */
export function guestVmSpec(guest: { kernelPath: string; initrdPath: string }, name: string, uuid: string, stay: boolean): VmSpec {
  return {
    ...TEST_GUEST_SPEC,
    name,
    uuid,
    boot: { kind: 'kernel', kernel: guest.kernelPath, initrd: guest.initrdPath, cmdline: `console=ttyS0 quiet panic=-1${stay ? ' stay=1' : ''}` },
    node: null,
    desiredState: 'start',
  };
}
