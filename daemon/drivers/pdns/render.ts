// The pure renderer of PowerDNS's config (templates/pdns/pdns.conf.hbs). Same input, same bytes.
import { PvcError } from '../../../common/errors.ts';
import { renderTemplate } from '../../../common/templates.ts';

/** A PowerDNS backend: `launch=` and its own settings (for gsqlite3 the database file). */
export interface PdnsBackend {
  launch: string;
  settings: Record<string, string>;
}

export interface PdnsConfigInput {
  backend: PdnsBackend;
  /** Where PowerDNS answers DNS (dnsmasq forwards pvc's zones here). */
  dnsAddresses: readonly string[];
  dnsPort: number;
  apiAddress: string;
  apiPort: number;
  apiKey: string;
  socketDir: string;
}

/**
 * The SOA of every zone pvc creates; zones are rewritten from ZooKeeper, so no serial scheme is
 * kept. Its last field is how long resolvers may remember that a name does not exist: short,
 * since a VM's name appears when its lease is recorded.
 */
export const PDNS_DEFAULT_SOA = 'ns1.@ hostmaster.@ 0 10800 3600 604800 30';

/** PowerDNS reads `key=value` lines: a value with a line break would smuggle in another setting. */
function safeValue(what: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new PvcError('bad-input', `pdns setting ${what} must be one line, got ${JSON.stringify(value)}`);
  return value;
}

/** pvcd calls the API from this host: loopback, or the API's own address when it listens elsewhere. */
function allowFrom(apiAddress: string): string {
  const loopback = ['127.0.0.0/8', '::1/128'];
  return (apiAddress.startsWith('127.') || apiAddress === '::1' ? loopback : [...loopback, apiAddress]).join(',');
}

export function renderPdnsConfig(input: PdnsConfigInput): string {
  const settings = Object.entries(input.backend.settings)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => {
      if (!/^[a-z0-9-]+$/.test(key)) throw new PvcError('bad-input', `invalid pdns backend setting name ${JSON.stringify(key)}`);
      return { key, value: safeValue(key, value) };
    });
  return renderTemplate('pdns/pdns.conf', {
    backend: { launch: safeValue('launch', input.backend.launch), settings },
    dns: { addresses: input.dnsAddresses.join(','), port: input.dnsPort },
    socketDir: safeValue('socket-dir', input.socketDir),
    api: { address: input.apiAddress, port: input.apiPort, key: safeValue('api-key', input.apiKey), allowFrom: allowFrom(input.apiAddress) },
    soa: PDNS_DEFAULT_SOA,
  });
}
