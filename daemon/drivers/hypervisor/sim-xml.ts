// The few facts the simulated hypervisor reads from domain XML: name, uuid, vCPUs, memory,
// whether the guest has ACPI (only then does it react to shutdown), and whether an <os><type>
// is present (libvirt refuses XML without one). A reader of known elements, not a validator.
export interface SimDomainFacts {
  name: string;
  uuid: string | null;
  vcpus: number;
  memoryKiB: number;
  acpi: boolean;
}

const UNIT_KIB: Readonly<Record<string, number>> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, m: 1024, mib: 1024, g: 1024 * 1024, gib: 1024 * 1024 };

/** Returns the facts, or a message in libvirt's words saying why the XML is refused. */
export function readDomainXml(xml: string): SimDomainFacts | { error: string } {
  if (!/^\s*(<\?xml[^>]*>\s*)?<domain[\s>]/.test(xml)) return { error: 'XML error: expected root element <domain>' };
  const name = element(xml, 'name');
  if (name === null || name.trim() === '') return { error: 'XML error: missing domain name' };
  if (!/<os[\s>][\s\S]*<type[\s>][\s\S]*<\/type>[\s\S]*<\/os>/.test(xml)) return { error: 'XML error: an os <type> must be specified' };
  const memory = /<memory(?:\s+unit=['"](\w+)['"])?\s*>\s*(\d+)\s*<\/memory>/.exec(xml);
  const unit = UNIT_KIB[(memory?.[1] ?? 'KiB').toLowerCase()];
  if (!memory || unit === undefined) return { error: 'XML error: missing or bad <memory>' };
  const vcpus = Number(element(xml, 'vcpu') ?? '1');
  return {
    name: unescapeXml(name),
    uuid: element(xml, 'uuid')?.trim() ?? null,
    vcpus: Number.isInteger(vcpus) && vcpus > 0 ? vcpus : 1,
    memoryKiB: Math.floor(Number(memory[2]) * unit),
    acpi: /<features>[\s\S]*<acpi\s*\/>[\s\S]*<\/features>/.test(xml),
  };
}

/** The XML with a <uuid> element after <name>, as libvirt shows a domain defined without one. */
export function withUuid(xml: string, uuid: string): string {
  return element(xml, 'uuid') === null ? xml.replace(/(<name>[\s\S]*?<\/name>)/, `$1<uuid>${uuid}</uuid>`) : xml;
}

/** Text of the first element with this tag (the domain's own <name> comes before any device). */
function element(xml: string, tag: string): string | null {
  const match = new RegExp(`<${tag}(?:\\s[^>]*)?>([^<]*)</${tag}>`).exec(xml);
  return match?.[1] ?? null;
}

function unescapeXml(text: string): string {
  return text
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');
}
