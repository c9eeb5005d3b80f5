// MAC addresses as pvc stores them (lowercase, colon-separated, unicast) and as znode names
// (the 12 hex digits alone, since a colon is awkward in a path segment).

/** Lowercase, colon-separated; the first octet's low bit clear (unicast). */
export const MAC_PATTERN = /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/;
export const MAC_RULE = 'must be a unicast mac address such as 52:54:00:12:34:56';
const MAC_KEY = /^[0-9a-f]{12}$/;
const LOOSE_MAC = /^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/;

/** The stored form of a MAC typed by a person (any case, ':' or '-'), or null when it is not a unicast MAC. */
export function normalizeMac(text: string): string | null {
  if (!LOOSE_MAC.test(text)) return null;
  const mac = text.toLowerCase().replace(/-/g, ':');
  return MAC_PATTERN.test(mac) ? mac : null;
}

/** The znode name of a MAC: `52:54:00:12:34:56` -> `525400123456`. */
export function macKey(mac: string): string {
  if (!MAC_PATTERN.test(mac)) throw new Error(`not a stored mac address: ${JSON.stringify(mac)}`);
  return mac.replace(/:/g, '');
}

/** The MAC a znode name stands for, or null when the name is not one. */
export function macFromKey(key: string): string | null {
  if (!MAC_KEY.test(key)) return null;
  const mac = key.match(/../g)?.join(':') ?? '';
  return MAC_PATTERN.test(mac) ? mac : null;
}
