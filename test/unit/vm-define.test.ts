// A user's VM definition (YAML or JSON) -> VmSpec: defaults, generated uuid and MACs from an
// injected random source (so the results are fixed here), raw XML, and refusals that name
// the field and the wrong value.
import { describe, expect, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import { vmSpecFromDefinition, vmSpecFromDefinitionText } from '../../common/vm/define.ts';
import { generateMac, generateUuid } from '../../common/vm/random-ids.ts';
import { VmSpecDoc } from '../../common/zk/schema.ts';
import { countingRandom } from '../helpers/vm-fixtures.ts';

function refusal(fn: () => unknown): PvcError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PvcError);
    expect((error as PvcError).code).toBe('bad-input');
    return error as PvcError;
  }
  throw new Error('expected a refusal');
}

const MINIMAL = { name: 'web1', vcpus: 2, memoryMiB: 1024 };

describe('generated identifiers', () => {
  it('makes a version 4 uuid and a 52:54:00 mac from the random source', () => {
    expect(generateUuid(countingRandom())).toBe('00010203-0405-4607-8809-0a0b0c0d0e0f');
    expect(generateMac(countingRandom(0xfd))).toBe('52:54:00:fd:fe:ff');
  });

  it('refuses a random source that returns too few bytes', () => {
    expect(() => generateUuid(() => new Uint8Array(3))).toThrow('returned 3 bytes, expected 16');
  });
});

describe('vmSpecFromDefinition', () => {
  it('fills in defaults and makes up the uuid and macs, the same way every time', () => {
    const definition = { ...MINIMAL, nics: [{ network: 'vni100' }, { network: 'vni200', mac: '52:54:00:AA:00:01' }] };
    const spec = vmSpecFromDefinition(definition, countingRandom());
    expect(spec).toEqual({
      name: 'web1',
      uuid: '00010203-0405-4607-8809-0a0b0c0d0e0f',
      vcpus: 2,
      memoryMiB: 1024,
      disks: [],
      nics: [{ network: 'vni100', mac: '52:54:00:10:11:12' }, { network: 'vni200', mac: '52:54:00:aa:00:01' }],
      boot: { kind: 'disk' },
      serial: { log: true },
      placement: { nodeLimit: [], selector: null, autostart: false, migrationMethod: 'live', maxDowntimeMs: 300 },
      tags: [],
      desiredState: 'stop',
      node: null,
      lastNode: null,
    });
    expect(vmSpecFromDefinition(definition, countingRandom())).toEqual(spec);
    expect(VmSpecDoc.parse(spec)).toEqual(spec);
  });

  it('keeps what the user gave: uuid (lowercased), placement, tags, state, node', () => {
    const spec = vmSpecFromDefinition(
      {
        ...MINIMAL,
        uuid: '6D1C0A4E-0000-4000-8000-000000000003',
        disks: [{ target: 'vda', source: { type: 'rbd', pool: 'vms', image: 'web1_disk0' } }],
        boot: { kind: 'kernel', kernel: '/k', initrd: null, cmdline: 'console=ttyS0' },
        serial: { log: false },
        placement: { nodeLimit: ['hv2', 'hv1'], selector: 'vms', autostart: true, migrationMethod: 'shutdown', maxDowntimeMs: 50 },
        tags: ['web'],
        desiredState: 'start',
        node: 'hv2',
      },
      () => {
        throw new Error('nothing to make up');
      },
    );
    expect(spec.uuid).toBe('6d1c0a4e-0000-4000-8000-000000000003');
    expect(spec.placement).toEqual({ nodeLimit: ['hv2', 'hv1'], selector: 'vms', autostart: true, migrationMethod: 'shutdown', maxDowntimeMs: 50 });
    expect([spec.desiredState, spec.node, spec.lastNode, spec.serial.log, spec.boot.kind]).toEqual(['start', 'hv2', null, false, 'kernel']);
  });

  it('never gives two nics of one vm the same made-up mac', () => {
    let calls = 0;
    // The first two draws repeat: the second nic needs a third draw.
    const random = (size: number) => Uint8Array.from({ length: size }, () => (calls++ < 6 ? 1 : 2));
    const spec = vmSpecFromDefinition({ ...MINIMAL, uuid: '6d1c0a4e-0000-4000-8000-000000000003', nics: [{ network: 'a' }, { network: 'b' }] }, random);
    expect(spec.nics.map((n) => n.mac)).toEqual(['52:54:00:01:01:01', '52:54:00:02:02:02']);
  });

  it('reads YAML and JSON text', () => {
    const yaml = 'name: web1\nvcpus: 2\nmemoryMiB: 1024\ntags: [a, b]\nplacement:\n  selector: load\n';
    expect(vmSpecFromDefinitionText(yaml, countingRandom()).placement.selector).toBe('load');
    expect(vmSpecFromDefinitionText(JSON.stringify(MINIMAL), countingRandom()).name).toBe('web1');
  });

  it.each<[string, unknown, string]>([
    ['vcpus 0', { ...MINIMAL, vcpus: 0 }, 'vcpus: too small: expected number to be >=1, got 0'],
    ['memory as text', { ...MINIMAL, memoryMiB: '1G' }, 'memoryMiB: invalid input: expected number, received string, got "1G"'],
    ['no memory', { name: 'web1', vcpus: 1 }, 'memoryMiB: invalid input: expected number, received undefined, got nothing'],
    ['an invalid name', { ...MINIMAL, name: 'Web_1' }, 'invalid vm definition "Web_1": name: use 1-63 lowercase letters, digits and inner hyphens, got "Web_1"'],
    ['a hostile name', { ...MINIMAL, name: `a'"<b>&` }, `name: use 1-63 lowercase letters`],
    ['an unknown field', { ...MINIMAL, cpus: 2 }, 'unrecognized key: "cpus"'],
    ['a bad mac', { ...MINIMAL, nics: [{ network: 'n', mac: 'zz' }] }, 'nics.0.mac: must be a unicast mac address in lowercase, such as 52:54:00:12:34:56, got "zz"'],
    ['a bad disk', { ...MINIMAL, disks: [{ target: 'vda', source: { type: 'file', path: 'rel.img' } }] }, 'disks.0.source.path: must be an absolute path, got "rel.img"'],
    ['an unknown selector', { ...MINIMAL, placement: { selector: 'random' } }, 'placement.selector: '],
    ['a state not for define', { ...MINIMAL, desiredState: 'migrate' }, 'desiredState: '],
    ['a node limit naming a bad node', { ...MINIMAL, placement: { nodeLimit: ['HV1'] } }, 'placement.nodeLimit.0: use 1-63 lowercase letters, digits and inner hyphens, got "HV1"'],
    ['not an object', 'web1', '(definition): invalid input: expected object, received string, got "web1"'],
  ])('refuses %s, naming the field and value', (_what, definition, message) => {
    const error = refusal(() => vmSpecFromDefinition(definition, countingRandom()));
    expect(error.message).toMatch(/^invalid vm definition/);
    expect(error.message).toContain(message);
  });

  it('refuses text that is not YAML or JSON, and duplicate keys', () => {
    expect(refusal(() => vmSpecFromDefinitionText('name: [unclosed', countingRandom())).message).toMatch(/^invalid vm definition: not yaml or json: /);
    expect(refusal(() => vmSpecFromDefinitionText('name: a\nname: b\nvcpus: 1\nmemoryMiB: 128', countingRandom())).message).toContain('not yaml or json');
  });
});

describe('vmSpecFromDefinition with raw XML', () => {
  const rawXml = "<domain type='qemu'><name>web1</name><uuid>6d1c0a4e-0000-4000-8000-000000000003</uuid><memory unit='MiB'>512</memory><vcpu>2</vcpu></domain>";

  it('takes uuid, memory and vcpus from the XML and keeps it', () => {
    const spec = vmSpecFromDefinition({ name: 'web1', rawXml }, countingRandom());
    expect([spec.uuid, spec.memoryMiB, spec.vcpus, spec.rawXml]).toEqual(['6d1c0a4e-0000-4000-8000-000000000003', 512, 2, rawXml]);
    expect(vmSpecFromDefinition({ name: 'web1', rawXml, memoryMiB: 512, vcpus: 2 }, countingRandom()).memoryMiB).toBe(512);
  });

  it.each<[string, unknown, string]>([
    ['memory that disagrees', { name: 'web1', rawXml, memoryMiB: 1024 }, 'memoryMiB is 1024 but the raw xml says 512'],
    ['a uuid that disagrees', { name: 'web1', rawXml, uuid: '6d1c0a4e-0000-4000-8000-000000000009' }, 'uuid is "6d1c0a4e-0000-4000-8000-000000000009" but the raw xml says'],
    ['another name', { name: 'web2', rawXml }, 'invalid raw xml: <name> is "web1" but the vm is "web2"'],
    ['no uuid', { name: 'web1', rawXml: rawXml.replace(/<uuid>.*<\/uuid>/, '') }, 'rawXml needs a <uuid>'],
    ['devices as well', { name: 'web1', rawXml, nics: [{ network: 'n' }] }, 'give either rawXml or nics, not both'],
    ['broken XML', { name: 'web1', rawXml: '<domain><name>web1</domain>' }, 'invalid raw xml: not well-formed'],
  ])('refuses %s', (_what, definition, message) => {
    expect(refusal(() => vmSpecFromDefinition(definition, countingRandom())).message).toContain(message);
  });
});
