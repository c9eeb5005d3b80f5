// Pure parsers of PowerDNS's HTTP API answers (zone list, one zone), and the request bodies
// pvc sends. Tested on captured answers (test/unit/fixtures/pdns/).
import { z } from 'zod';
import type { RecordSet, Zone } from './port.ts';

const ZoneListDoc = z.array(z.looseObject({ id: z.string(), name: z.string() }));

const ZoneDoc = z.looseObject({
  name: z.string(),
  rrsets: z.array(
    z.looseObject({
      name: z.string(),
      type: z.string(),
      ttl: z.number().int().nonnegative(),
      records: z.array(z.looseObject({ content: z.string(), disabled: z.boolean().optional() })),
    }),
  ),
});

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`pdns api: ${what} is not json: ${(error as Error).message}`, { cause: error });
  }
}

/** `GET /zones`: the zones' ids (for URLs) and names. */
export function parseZoneList(text: string): Array<{ id: string; name: string }> {
  const parsed = ZoneListDoc.safeParse(parseJson(text, 'the zone list'));
  if (!parsed.success) throw new Error(`pdns api: unexpected zone list: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data.map((z) => ({ id: z.id, name: z.name }));
}

/** `GET /zones/<id>`: its record sets, disabled records left out, contents sorted. */
export function parseZone(text: string): Zone {
  const parsed = ZoneDoc.safeParse(parseJson(text, 'a zone'));
  if (!parsed.success) throw new Error(`pdns api: unexpected zone: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const rrsets: RecordSet[] = parsed.data.rrsets
    .map((s) => ({ name: s.name.toLowerCase(), type: s.type, ttlS: s.ttl, records: s.records.filter((r) => !r.disabled).map((r) => r.content).sort() }))
    .filter((s) => s.records.length > 0)
    .sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type));
  return { name: parsed.data.name.toLowerCase(), rrsets };
}

const recordsOf = (set: RecordSet) => set.records.map((content) => ({ content, disabled: false }));

/** `POST /zones`: a native zone with its record sets (the NS set names its name servers). */
export function createZoneBody(zone: Zone): string {
  return JSON.stringify({
    name: zone.name,
    kind: 'Native',
    nameservers: [],
    rrsets: zone.rrsets.map((s) => ({ name: s.name, type: s.type, ttl: s.ttlS, records: recordsOf(s) })),
  });
}

/** `PATCH /zones/<id>`: REPLACE and DELETE record sets in one request. */
export function patchZoneBody(replace: readonly RecordSet[], remove: ReadonlyArray<{ name: string; type: string }>): string {
  return JSON.stringify({
    rrsets: [
      ...remove.map((s) => ({ name: s.name, type: s.type, changetype: 'DELETE' })),
      ...replace.map((s) => ({ name: s.name, type: s.type, ttl: s.ttlS, changetype: 'REPLACE', records: recordsOf(s) })),
    ],
  });
}
