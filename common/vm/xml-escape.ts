// Escaping for values put into XML text and attributes. The domain template escapes nothing
// itself (templates render with noEscape): every string of its context goes through
// escapeStrings first, so no value can reach the XML unescaped by being forgotten.

const XML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Safe in text and in attributes quoted with either quote. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ENTITIES[c] as string);
}

/** The same structure with every string in it escaped; numbers, booleans and null unchanged. */
export function escapeStrings<T>(value: T): T {
  if (typeof value === 'string') return escapeXml(value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => escapeStrings(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, escapeStrings(item)])) as T;
  }
  return value;
}
