// The virsh parsers on output captured from virsh 9.0 against libvirtd + QEMU 7.2 on the test
// machine (test/unit/fixtures/virsh/; captured during a live migration between two test nodes).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  classifyVirshError,
  parseDefinedName,
  parseDomjobinfoRaw,
  parseDominfo,
  parseDomstateReason,
  parseDomstatsState,
  parseDomstatsStats,
  parseListNames,
  parseListUuidName,
  parseListUuids,
  parseNodeinfo,
  VirshParseError,
  virshErrorDetail,
} from '../../daemon/drivers/hypervisor/parse.ts';

const fixture = (name: string): string => readFileSync(new URL(`fixtures/virsh/${name}`, import.meta.url), 'utf8');
const UUID1 = '6d1c0a4e-0000-4000-8000-000000000001';
const UUID2 = '6d1c0a4e-0000-4000-8000-000000000002';

describe('virsh list', () => {
  it('reads uuid and name pairs, skipping the trailing blank line', () => {
    expect(parseListUuidName(fixture('list-all-uuid-name.txt'))).toEqual([
      { uuid: UUID1, name: 'tvm1' },
      { uuid: UUID2, name: 'tvm2' },
    ]);
  });

  it('keeps spaces inside a name', () => {
    expect(parseListUuidName(`${UUID1} a name with spaces\n\n`)).toEqual([{ uuid: UUID1, name: 'a name with spaces' }]);
  });

  it('reads an empty listing as no domains', () => {
    expect(parseListUuidName('\n')).toEqual([]);
  });

  it('refuses a line that is not uuid + name', () => {
    expect(() => parseListUuidName(' Id   Name   State\n')).toThrow(VirshParseError);
  });

  it('reads --name and --uuid listings', () => {
    expect(parseListNames(fixture('list-all-name.txt'))).toEqual(['tvm1', 'tvm2']);
    expect(parseListUuids(fixture('list-all-uuid.txt'))).toEqual([UUID1, UUID2]);
  });
});

describe('virsh domstats --state', () => {
  it('maps the numeric states of running and defined domains', () => {
    expect(parseDomstatsState(fixture('domstats-state.txt'))).toEqual(
      new Map([
        ['tvm2', 'shutoff'],
        ['tvm1', 'running'],
      ]),
    );
  });
});

describe('virsh domstats --raw --state --cpu-total --balloon --block --interface NAME', () => {
  it('reads a running domain without disks or interfaces: CPU time and memory, zero byte counts', () => {
    expect(parseDomstatsStats(fixture('domstats-stats-running.txt'))).toEqual({
      cpuTimeMs: 6280,
      memoryMiB: 128,
      diskReadBytes: 0,
      diskWriteBytes: 0,
      netRxBytes: 0,
      netTxBytes: 0,
    });
  });

  it('sums the byte counts over all disks and all interfaces', () => {
    expect(parseDomstatsStats(fixture('domstats-stats-running-devices.txt'))).toEqual({
      cpuTimeMs: 6790,
      memoryMiB: 128,
      diskReadBytes: 29184 + 12288,
      diskWriteBytes: 0,
      netRxBytes: 656 + 176,
      netTxBytes: 2366 + 0,
    });
  });

  it.each(['domstats-stats-shutoff.txt', 'domstats-stats-shutoff-destroyed-devices.txt'])('%s: a shut-off domain has its memory, zeros elsewhere', (file) => {
    // libvirt prints a cpu.time for shut-off domains that is not theirs: it is read as 0.
    expect(parseDomstatsStats(fixture(file))).toEqual({ cpuTimeMs: 0, memoryMiB: 128, diskReadBytes: 0, diskWriteBytes: 0, netRxBytes: 0, netTxBytes: 0 });
  });

  it('rounds memory down to MiB and CPU time down to ms, exactly for large counters', () => {
    const stdout = "Domain: 'big'\n  state.state=1\n  cpu.time=9007199254740993999\n  balloon.current=1049599\n  block.count=1\n  block.0.wr.bytes=7\n";
    expect(parseDomstatsStats(stdout)).toMatchObject({ cpuTimeMs: 9007199254740, memoryMiB: 1024, diskWriteBytes: 7 });
  });

  it('refuses output without exactly one domain, or with a counter that is not a number', () => {
    expect(() => parseDomstatsStats('')).toThrow(VirshParseError);
    expect(() => parseDomstatsStats(`${fixture('domstats-stats-running.txt')}${fixture('domstats-stats-shutoff.txt')}`)).toThrow(VirshParseError);
    expect(() => parseDomstatsStats("Domain: 'x'\n  cpu.time=-5\n")).toThrow(VirshParseError);
  });
});

describe('virsh domstate --reason', () => {
  it.each([
    ['domstate-reason-running-booted.txt', 'running', 'booted'],
    ['domstate-reason-running-migrated.txt', 'running', 'migrated'],
    ['domstate-reason-shutoff-unknown.txt', 'shutoff', 'unknown'],
    ['domstate-reason-shutoff-destroyed.txt', 'shutoff', 'destroyed'],
    ['domstate-reason-shutoff-shutdown.txt', 'shutoff', 'shutdown'],
  ])('%s -> %s (%s)', (file, state, reason) => {
    expect(parseDomstateReason(fixture(file))).toEqual({ state, reason });
  });

  it('reads the words of the other states', () => {
    expect(parseDomstateReason('in shutdown (user)\n')).toEqual({ state: 'shutdown', reason: 'user' });
    expect(parseDomstateReason('paused (migrating)\n')).toEqual({ state: 'paused', reason: 'migrating' });
  });

  it('refuses an unknown state word', () => {
    expect(() => parseDomstateReason('exploded (badly)\n')).toThrow(VirshParseError);
  });
});

describe('virsh domjobinfo --completed --rawstats', () => {
  it('reads an incoming migration: elapsed time, downtime and data', () => {
    expect(parseDomjobinfoRaw(fixture('domjobinfo-completed-rawstats-incoming.txt'))).toEqual({
      operation: 'incoming migration',
      timeElapsedMs: 8333,
      downtimeMs: 44,
      dataTotalBytes: 134750208,
      dataProcessedBytes: 72471084,
      memoryIterations: 3,
    });
  });

  it('is null when libvirt keeps no completed job', () => {
    expect(parseDomjobinfoRaw(fixture('domjobinfo-completed-rawstats-none.txt'))).toBeNull();
  });

  it('refuses the human-readable form', () => {
    expect(() => parseDomjobinfoRaw(fixture('domjobinfo-completed-incoming.txt'))).toThrow(VirshParseError);
  });
});

describe('virsh nodeinfo and dominfo', () => {
  it('reads the host CPUs and memory', () => {
    expect(parseNodeinfo(fixture('nodeinfo.txt'))).toEqual({ cpus: 2, memoryMiB: 5722, cpuModel: 'x86_64', cpuMhz: 2599 });
  });

  it('reads a running and a stopped domain', () => {
    expect(parseDominfo(fixture('dominfo-running.txt'))).toEqual({
      name: 'tvm1',
      uuid: UUID1,
      state: 'running',
      vcpus: 1,
      maxMemoryKiB: 131072,
      usedMemoryKiB: 131072,
      persistent: true,
      autostart: false,
    });
    expect(parseDominfo(fixture('dominfo-shutoff.txt'))).toMatchObject({ name: 'tvm2', uuid: UUID2, state: 'shutoff' });
  });
});

describe('virsh define', () => {
  it('reads the name of the defined domain', () => {
    expect(parseDefinedName("\nDomain 'tvm3' defined from /dev/stdin\n\n")).toBe('tvm3');
  });
});

describe('virsh errors', () => {
  it.each([
    ['error-unknown-domain.txt', 'not-found'],
    ['error-domstats-unknown.txt', 'not-found'],
    ['error-start-unknown.txt', 'not-found'],
    ['error-start-running.txt', 'invalid-state'],
    ['error-destroy-not-running.txt', 'invalid-state'],
    ['error-shutdown-not-running.txt', 'invalid-state'],
    ['error-migrate-not-running.txt', 'invalid-state'],
    ['error-migrate-same-host.txt', 'failed'],
    ['error-define-invalid.txt', 'invalid-xml'],
    ['error-define-missing-file.txt', 'invalid-xml'],
    ['error-unreachable.txt', 'unreachable'],
  ])('%s is %s', (file, kind) => {
    expect(classifyVirshError(fixture(file))).toBe(kind);
  });

  it('keeps the messages without their prefixes', () => {
    expect(virshErrorDetail(fixture('error-destroy-not-running.txt'))).toBe("Failed to destroy domain 'tvm2'; Requested operation is not valid: domain is not running");
  });
});
