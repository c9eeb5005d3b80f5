// Pure parser of `ip -json addr show` for the gateway driver: each link's global addresses.
// Tested on captured output (test/unit/fixtures/gateway/).
import type { LinkAddresses } from './port.ts';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

export function parseLinkAddresses(text: string): LinkAddresses[] {
  // `ip -json` prints nothing at all in a namespace without links of a kind.
  if (text.trim() === '') return [];
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`ip addr show: not valid json: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(doc)) throw new Error('ip addr show: not a json array');
  return doc.map((link) => {
    if (!isObject(link) || typeof link.ifname !== 'string') throw new Error(`ip addr show: a link without ifname: ${JSON.stringify(link).slice(0, 200)}`);
    const addresses = (Array.isArray(link.addr_info) ? link.addr_info : [])
      .filter((a): a is Json => isObject(a) && a.scope === 'global' && typeof a.local === 'string' && typeof a.prefixlen === 'number')
      .map((a) => `${a.local as string}/${a.prefixlen as number}`);
    return { name: link.ifname, addresses };
  });
}
