// validateRawXml: a user's own domain XML is refused, with a clear bad-input error, when it is
// not well-formed, not a <domain>, lacks a name, memory or vcpu count, or names another VM.
import { describe, expect, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import { validateRawXml } from '../../common/vm/raw-xml.ts';

const GOOD = `<?xml version='1.0'?>
<!-- a comment -->
<domain type='kvm'>
  <name>web1</name>
  <uuid>6D1C0A4E00004000800000000000000F</uuid>
  <memory unit='GiB'>2</memory>
  <vcpu placement='static'>4</vcpu>
  <devices><disk type='file'><source file='/a&amp;b.img'/></disk></devices>
</domain>`;

function refusal(xml: string, vmName?: string): PvcError {
  try {
    validateRawXml(xml, vmName);
  } catch (error) {
    expect(error).toBeInstanceOf(PvcError);
    expect((error as PvcError).code).toBe('bad-input');
    expect((error as PvcError).message).toMatch(/^invalid raw xml: /);
    return error as PvcError;
  }
  throw new Error('expected a refusal');
}

const domain = (inner: string): string => `<domain type='qemu'>${inner}</domain>`;
const BODY = '<name>web1</name><memory>131072</memory><vcpu>1</vcpu>';

describe('validateRawXml', () => {
  it('returns the facts of a valid domain, uuid normalised and memory in MiB', () => {
    expect(validateRawXml(GOOD, 'web1')).toEqual({ name: 'web1', uuid: '6d1c0a4e-0000-4000-8000-00000000000f', memoryMiB: 2048, vcpus: 4 });
    // No unit means KiB; no uuid is reported as null; no name check without a vm name.
    expect(validateRawXml(domain(BODY))).toEqual({ name: 'web1', uuid: null, memoryMiB: 128, vcpus: 1 });
  });

  it.each<[string, string, number]>([
    ['bytes', 'b', 1], ['KB', 'KB', 1], ['MiB', 'MiB', 1], ['M', 'M', 1], ['MB', 'MB', 1], ['GB', 'GB', 1], ['TiB', 'TiB', 1],
  ])('converts memory in %s, rounding up to whole MiB', (_what, unit, value) => {
    const facts = validateRawXml(domain(`<name>a</name><memory unit='${unit}'>${value}</memory><vcpu>1</vcpu>`));
    expect(facts.memoryMiB).toBe({ b: 1, KB: 1, MiB: 1, M: 1, MB: 1, GB: 954, TiB: 1024 * 1024 }[unit]);
  });

  it.each<[string, string, string]>([
    ['an unclosed element', domain('<name>web1</name><memory>1</memory><vcpu>1'), 'not well-formed'],
    ['mismatched tags, with the position', '<domain>\n  <name>web1</domain>', 'line 2'],
    ['a repeated attribute', "<domain type='a' type='b'>" + BODY + '</domain>', 'redefined'],
    ['an unquoted attribute', '<domain type=qemu>' + BODY + '</domain>', 'not well-formed'],
    ['text after the root', domain(BODY) + 'trailing', 'not well-formed'],
    ['two roots', domain(BODY) + domain(BODY), 'not well-formed'],
    ['an unknown entity', domain('<name>a&bogus;</name><memory>1</memory><vcpu>1</vcpu>'), 'not well-formed'],
    ['a DOCTYPE', `<!DOCTYPE domain [<!ENTITY x 'y'>]>${domain(BODY)}`, '<!DOCTYPE> is not allowed'],
    ['a control character', domain(`<name>a\u0001</name>`), 'control character U+0001'],
    ['empty text', '', 'not well-formed'],
    ['not XML at all', 'name: web1', 'not well-formed'],
    ['another root element', `<network>${BODY}</network>`, 'the root element must be <domain>, got <network>'],
    ['a namespaced domain', `<domain xmlns='urn:x'>${BODY}</domain>`, 'the root element must be <domain>'],
    ['no name', domain('<memory>1</memory><vcpu>1</vcpu>'), '<domain> has no <name>'],
    ['an empty name', domain('<name> </name><memory>1</memory><vcpu>1</vcpu>'), '<name> is empty'],
    ['two names', domain('<name>a</name><name>b</name><memory>1</memory><vcpu>1</vcpu>'), '2 <name> elements'],
    ['no memory', domain('<name>web1</name><vcpu>1</vcpu>'), '<domain> has no <memory>'],
    ['memory that is not a number', domain('<name>web1</name><memory>lots</memory><vcpu>1</vcpu>'), '<memory> must be a positive integer, got "lots"'],
    ['an unknown memory unit', domain("<name>web1</name><memory unit='pages'>1</memory><vcpu>1</vcpu>"), 'unknown unit "pages"'],
    ['no vcpu', domain('<name>web1</name><memory>1</memory>'), '<domain> has no <vcpu>'],
    ['zero vcpus', domain('<name>web1</name><memory>1</memory><vcpu>0</vcpu>'), '<vcpu> must be an integer from 1 to 255, got "0"'],
    ['a bad uuid', domain(`${BODY}<uuid>not-a-uuid</uuid>`), '<uuid> is not a uuid: "not-a-uuid"'],
  ])('refuses %s', (_what, xml, message) => {
    expect(refusal(xml).message).toContain(message);
  });

  it('refuses a name that differs from the vm, naming both', () => {
    expect(refusal(GOOD, 'web2').message).toBe('invalid raw xml: <name> is "web1" but the vm is "web2"');
  });

  it('refuses a document over the size limit before parsing it', () => {
    expect(refusal(domain(BODY + ' '.repeat(256 * 1024))).message).toContain('more than the 262144 allowed');
  });
});
