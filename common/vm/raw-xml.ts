// Checks a user's own domain XML before it is stored: libvirt would refuse a broken document
// only when a node defines it, far from the user who typed it. Parsed with @xmldom/xmldom
// (pure JavaScript, no dependencies), which reports well-formedness errors with a position.
import { DOMParser, type Element } from '@xmldom/xmldom';
import { PvcError } from '../errors.ts';
import { RAW_XML_MAX_BYTES, VM_MAX_VCPUS } from '../zk/vm-schema.ts';

export interface RawXmlFacts {
  name: string;
  /** null when the XML has no <uuid>. */
  uuid: string | null;
  /** Rounded up to whole MiB. */
  memoryMiB: number;
  vcpus: number;
}

/** libvirt's memory units, in bytes; a <memory> without a unit is in KiB. */
const MEMORY_UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1, bytes: 1,
  KB: 1e3, k: 1024, KiB: 1024,
  MB: 1e6, M: 1024 ** 2, MiB: 1024 ** 2,
  GB: 1e9, G: 1024 ** 3, GiB: 1024 ** 3,
  TB: 1e12, T: 1024 ** 4, TiB: 1024 ** 4,
};
const MIB = 1024 ** 2;
/** XML 1.0 allows no C0 control character other than tab, line feed and carriage return. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const POSITIVE_INTEGER = /^[1-9][0-9]{0,15}$/;

function refuse(why: string): never {
  throw new PvcError('bad-input', `invalid raw xml: ${why}`);
}

function parse(xml: string): Element {
  let first: string | null = null;
  try {
    // Every report counts, warnings included: xmldom only warns about an unquoted attribute,
    // which is not well-formed XML and which libvirt refuses.
    const doc = new DOMParser({
      onError(level, message, context: { locator?: { lineNumber?: number; columnNumber?: number } } | undefined) {
        const at = context?.locator?.lineNumber ? ` at line ${context.locator.lineNumber} column ${context.locator.columnNumber}` : '';
        first ??= `not well-formed: ${message}${at}`;
        throw new Error(first);
      },
    }).parseFromString(xml, 'text/xml');
    const root = doc.documentElement;
    if (!root) refuse('not well-formed: no root element');
    return root;
  } catch (error) {
    if (error instanceof PvcError) throw error;
    refuse(first ?? `not well-formed: ${(error as Error).message}`);
  }
}

function childElements(parent: Element, tag: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === node.ELEMENT_NODE && (node as Element).tagName === tag) found.push(node as Element);
  }
  return found;
}

/** The text of the one <tag> child of the root: refused when absent, repeated or empty. */
function onlyChildText(root: Element, tag: string): { text: string; element: Element } {
  const elements = childElements(root, tag);
  if (elements.length === 0) refuse(`<domain> has no <${tag}>`);
  if (elements.length > 1) refuse(`<domain> has ${elements.length} <${tag}> elements, expected one`);
  const element = elements[0] as Element;
  const text = (element.textContent ?? '').trim();
  if (text === '') refuse(`<${tag}> is empty`);
  return { text, element };
}

function memoryMiB(root: Element): number {
  const { text, element } = onlyChildText(root, 'memory');
  const unit = element.getAttribute('unit') ?? 'KiB';
  const unitBytes = MEMORY_UNIT_BYTES[unit];
  if (unitBytes === undefined) refuse(`<memory> has unknown unit ${JSON.stringify(unit)}: use one of ${Object.keys(MEMORY_UNIT_BYTES).join(', ')}`);
  if (!POSITIVE_INTEGER.test(text)) refuse(`<memory> must be a positive integer, got ${JSON.stringify(text)}`);
  return Math.ceil((Number(text) * unitBytes) / MIB);
}

function vcpus(root: Element): number {
  const { text } = onlyChildText(root, 'vcpu');
  if (!POSITIVE_INTEGER.test(text) || Number(text) > VM_MAX_VCPUS) refuse(`<vcpu> must be an integer from 1 to ${VM_MAX_VCPUS}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * Refuses XML that is too large, not well-formed, not a libvirt <domain>, or that lacks a name,
 * memory or vcpu count, or names another domain than `vmName` (when given). Returns what
 * pvc needs to know from it for placement and for tracking the domain.
 */
export function validateRawXml(xml: string, vmName?: string): RawXmlFacts {
  const bytes = Buffer.byteLength(xml, 'utf8');
  if (bytes > RAW_XML_MAX_BYTES) refuse(`${bytes} bytes, more than the ${RAW_XML_MAX_BYTES} allowed`);
  // Entities declared in a DTD could expand without bound, and libvirt's XML never needs one.
  if (/<!DOCTYPE/i.test(xml)) refuse('a <!DOCTYPE> is not allowed');
  const control = CONTROL_CHARS.exec(xml);
  if (control) refuse(`not well-formed: control character U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')} at offset ${control.index}`);
  const root = parse(xml);
  if (root.tagName !== 'domain' || root.namespaceURI) refuse(`the root element must be <domain>, got <${root.tagName}>`);
  const name = onlyChildText(root, 'name').text;
  if (vmName !== undefined && name !== vmName) refuse(`<name> is ${JSON.stringify(name)} but the vm is ${JSON.stringify(vmName)}`);
  const uuidElements = childElements(root, 'uuid');
  let uuid: string | null = null;
  if (uuidElements.length > 0) {
    const text = onlyChildText(root, 'uuid').text;
    if (!UUID.test(text)) refuse(`<uuid> is not a uuid: ${JSON.stringify(text)}`);
    const hex = text.replace(/-/g, '').toLowerCase();
    uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return { name, uuid, memoryMiB: memoryMiB(root), vcpus: vcpus(root) };
}
