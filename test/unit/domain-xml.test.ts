// Domain XML rendering: golden files for the diskless test guest and an RBD-disk VM (update
// them with UPDATE_GOLDEN=1 after a deliberate template change, and read the diff), escaping
// of every value (hostile names and paths read back intact), and the node facts it needs.
import { readFileSync, writeFileSync } from 'node:fs';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import { consoleLogPath, renderDomainXml, type DomainNodeFacts } from '../../common/vm/domain-xml.ts';
import { validateRawXml } from '../../common/vm/raw-xml.ts';
import { escapeStrings, escapeXml } from '../../common/vm/xml-escape.ts';
import type { VmSpec } from '../../common/zk/schema.ts';
import { FULL_SPEC, NODE_FACTS, TEST_GUEST_SPEC } from '../helpers/vm-fixtures.ts';

function golden(file: string, actual: string): void {
  const url = new URL(`golden/${file}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(url, actual);
  expect(actual).toBe(readFileSync(url, 'utf8'));
}

function parse(xml: string): Element {
  const doc = new DOMParser({ onError: (level, message) => { throw new Error(`${level}: ${message}`); } }).parseFromString(xml, 'text/xml');
  return doc.documentElement as Element;
}

function all(root: Element, tag: string): Element[] {
  return Array.from(root.getElementsByTagName(tag));
}

function one(root: Element, tag: string): Element {
  const found = all(root, tag);
  expect(found, `<${tag}> elements`).toHaveLength(1);
  return found[0] as Element;
}

describe('golden domain xml', () => {
  it('renders the diskless test guest (direct kernel boot, serial log)', () => {
    golden('domain-test-guest.xml', renderDomainXml(TEST_GUEST_SPEC, NODE_FACTS));
  });

  it('renders a VM with an rbd disk, a file disk and two nics', () => {
    golden('domain-rbd-vm.xml', renderDomainXml(FULL_SPEC, NODE_FACTS));
  });

  it('renders well-formed XML that validateRawXml accepts, with the spec facts', () => {
    for (const spec of [TEST_GUEST_SPEC, FULL_SPEC]) {
      expect(validateRawXml(renderDomainXml(spec, NODE_FACTS), spec.name)).toEqual({ name: spec.name, uuid: spec.uuid, memoryMiB: spec.memoryMiB, vcpus: spec.vcpus });
    }
  });

  it('boots from the network, or from nothing but the kernel, as asked', () => {
    const network = parse(renderDomainXml({ ...FULL_SPEC, boot: { kind: 'network' } }, NODE_FACTS));
    expect(one(network, 'boot').getAttribute('dev')).toBe('network');
    const guest = parse(renderDomainXml({ ...TEST_GUEST_SPEC, boot: { kind: 'kernel', kernel: '/k', initrd: null, cmdline: '' } }, NODE_FACTS));
    expect(all(guest, 'boot')).toHaveLength(0);
    expect(all(guest, 'initrd')).toHaveLength(0);
    expect(one(guest, 'cmdline').textContent).toBe('');
  });

  it('writes no serial log when the spec asks for none', () => {
    const root = parse(renderDomainXml({ ...TEST_GUEST_SPEC, serial: { log: false } }, NODE_FACTS));
    expect(all(root, 'log')).toHaveLength(0);
    expect(one(root, 'serial').getAttribute('type')).toBe('pty');
  });
});

describe('escaping', () => {
  const HOSTILE = `a'"<b>&`;

  it('escapes the five XML specials, and every string of a structure', () => {
    expect(escapeXml(HOSTILE)).toBe('a&apos;&quot;&lt;b&gt;&amp;');
    expect(escapeXml('&amp;')).toBe('&amp;amp;');
    expect(escapeStrings({ a: [HOSTILE, 1, null, true], b: { c: '<' } })).toEqual({ a: ['a&apos;&quot;&lt;b&gt;&amp;', 1, null, true], b: { c: '&lt;' } });
  });

  it('carries hostile values into the XML intact, without changing its shape', () => {
    // Names are held to a DNS label when stored; the renderer must still be safe without that.
    const spec: VmSpec = {
      ...FULL_SPEC,
      name: HOSTILE,
      disks: [
        { target: 'vda', source: { type: 'rbd', pool: `p${HOSTILE}`, image: `i${HOSTILE}` } },
        { target: 'vdb', source: { type: 'file', path: `/srv/${HOSTILE}.img` } },
      ],
      nics: [{ network: 'vni100', mac: '52:54:00:12:34:56' }],
      boot: { kind: 'kernel', kernel: `/k/${HOSTILE}`, initrd: `/i/${HOSTILE}`, cmdline: `console=ttyS0 x=${HOSTILE} </cmdline><evil/>` },
    };
    const node: DomainNodeFacts = {
      node: 'hv1',
      consoleLogDir: `/logs/${HOSTILE}`,
      rbd: { monitors: [{ host: `h${HOSTILE}`, port: 6789 }], user: `u${HOSTILE}`, secretUuid: `s${HOSTILE}` },
      bridges: { vni100: `br${HOSTILE}` },
    };
    const xml = renderDomainXml(spec, node);
    const root = parse(xml);
    expect(all(root, 'evil')).toHaveLength(0);
    expect(all(root, 'b')).toHaveLength(0);
    expect(one(root, 'name').textContent).toBe(HOSTILE);
    expect(one(root, 'kernel').textContent).toBe(`/k/${HOSTILE}`);
    expect(one(root, 'initrd').textContent).toBe(`/i/${HOSTILE}`);
    expect(one(root, 'cmdline').textContent).toBe(`console=ttyS0 x=${HOSTILE} </cmdline><evil/>`);
    const [rbd, file] = all(root, 'disk');
    expect(rbd?.getElementsByTagName('source')[0]?.getAttribute('name')).toBe(`p${HOSTILE}/i${HOSTILE}`);
    expect(rbd?.getElementsByTagName('host')[0]?.getAttribute('name')).toBe(`h${HOSTILE}`);
    expect(rbd?.getElementsByTagName('auth')[0]?.getAttribute('username')).toBe(`u${HOSTILE}`);
    expect(rbd?.getElementsByTagName('secret')[0]?.getAttribute('uuid')).toBe(`s${HOSTILE}`);
    expect(file?.getElementsByTagName('source')[0]?.getAttribute('file')).toBe(`/srv/${HOSTILE}.img`);
    expect(one(root, 'interface').getElementsByTagName('source')[0]?.getAttribute('bridge')).toBe(`br${HOSTILE}`);
    expect(one(root, 'log').getAttribute('file')).toBe(`/logs/${HOSTILE}/${HOSTILE}.log`);
    expect(validateRawXml(xml, HOSTILE).name).toBe(HOSTILE);
  });
});

describe('node facts', () => {
  it('refuses an rbd disk on a node without ceph, naming both', () => {
    expect(() => renderDomainXml(FULL_SPEC, { ...NODE_FACTS, rbd: null })).toThrow(/vm "web1" has rbd disk vda but node "hv1" has no ceph access/);
  });

  it('refuses a nic on a network the node has no bridge for, naming it', () => {
    let error: unknown;
    try {
      renderDomainXml(FULL_SPEC, { ...NODE_FACTS, bridges: { vni100: 'vmbr100' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PvcError);
    expect((error as PvcError).code).toBe('refused');
    expect((error as PvcError).message).toContain('network "vni200", which has no bridge on node "hv1"');
  });

  it('puts console logs in the node folder and refuses a name that would leave it', () => {
    expect(consoleLogPath('/var/log/pvc/console/', 'web1')).toBe('/var/log/pvc/console/web1.log');
    for (const bad of ['../x', '..', '.', '', 'a/b']) expect(() => consoleLogPath('/d', bad)).toThrow(JSON.stringify(bad));
  });

  it('returns raw XML as given, after checking it again', () => {
    const rawXml = "<domain type='kvm'><name>web1</name><uuid>6d1c0a4e-0000-4000-8000-000000000003</uuid><memory unit='GiB'>2</memory><vcpu>2</vcpu></domain>";
    expect(renderDomainXml({ ...FULL_SPEC, rawXml }, NODE_FACTS)).toBe(rawXml);
    expect(() => renderDomainXml({ ...FULL_SPEC, name: 'web2', rawXml }, NODE_FACTS)).toThrow('<name> is "web1" but the vm is "web2"');
  });
});
