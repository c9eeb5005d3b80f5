// dnsmasq and PowerDNS config rendering: golden files (update them with UPDATE_GOLDEN=1 after a
// deliberate template change, and read the diff), and the hostsdir and lease files.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { leaseFileText, renderDnsmasqConfig, reservationFiles, type DnsmasqPaths } from '../../daemon/drivers/dnsmasq/render.ts';
import { renderPdnsConfig } from '../../daemon/drivers/pdns/render.ts';
import { dnsmasqInputOf } from '../../daemon/reconcile/dhcp-plan.ts';
import { servedZones } from '../../daemon/reconcile/dns-zones.ts';
import { parseLeaseFile } from '../../daemon/drivers/dnsmasq/parse.ts';
import { CLUSTER_NETWORK, LEASE_VM2, RESERVATION_ANON, RESERVATION_WEB, managedNetwork } from '../helpers/network-fixtures.ts';

function golden(file: string, actual: string): void {
  const url = new URL(`golden/${file}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(url, actual);
  expect(actual).toBe(readFileSync(url, 'utf8'));
}

const PATHS: DnsmasqPaths = {
  dir: '/var/lib/pvc/services/dnsmasq/prod',
  configFile: '/var/lib/pvc/services/dnsmasq/prod/dnsmasq.conf',
  pidFile: '/var/lib/pvc/services/dnsmasq/prod/dnsmasq.pid',
  logFile: '/var/lib/pvc/services/dnsmasq/prod/dnsmasq.log',
  leaseFile: '/var/lib/pvc/services/dnsmasq/prod/leases',
  hookScript: '/opt/pvc/daemon/drivers/dnsmasq/lease-hook.sh',
  hostsDir: '/var/lib/pvc/services/dnsmasq/prod/hosts',
  spoolDir: '/var/lib/pvc/services/dnsmasq/prod/spool',
};

const dual = managedNetwork({
  mtu: 1450,
  ipv6: { subnet: 'fd00:100::/64', gateway: 'fd00:100::1', dhcp: { enabled: true } },
  nameServers: ['10.0.0.53', 'fd00::53'],
});
const noDhcp = managedNetwork({ name: 'lab', vni: 200, domain: 'lab.c1.pvc.local', ipv4: { subnet: '10.200.0.0/23', gateway: '10.200.0.1', dhcp: { enabled: false, start: null, end: null } } });
const settings = (networks: Parameters<typeof servedZones>[0]) => ({ leaseTimeS: 3600, pdns: { address: '127.0.0.1', port: 5300 }, servedZones: servedZones(networks, CLUSTER_NETWORK), upstreamResolvers: ['192.0.2.53', '2001:db8::53'], logDhcp: false });

describe('dnsmasq config', () => {
  it('renders a dual-stack network with dhcp, mtu and its own name servers', () => {
    golden('dnsmasq-dual-stack.conf', renderDnsmasqConfig(dnsmasqInputOf(dual, settings([dual, noDhcp])), PATHS));
  });

  it('renders an ipv4 network without dhcp: dns at the gateway, no range', () => {
    const text = renderDnsmasqConfig(dnsmasqInputOf(noDhcp, { ...settings([dual, noDhcp]), logDhcp: true, upstreamResolvers: [] }), PATHS);
    golden('dnsmasq-no-dhcp.conf', text);
    expect(text).not.toMatch(/^dhcp-range=/m);
    expect(text).toMatch(/^dhcp-option=option:dns-server,10\.200\.0\.1$/m);
  });

  describe('ipv6: router advertisements on a /64 only', () => {
    const v6Network = (subnet: string, dhcp: boolean) => managedNetwork({ ipv6: { subnet, gateway: subnet.replace(/::\/\d+$/, '::1'), dhcp: { enabled: dhcp } } });
    const render = (network: ReturnType<typeof managedNetwork>) => renderDnsmasqConfig(dnsmasqInputOf(network, settings([network])), PATHS);
    const ipv6Lines = (text: string) => text.split('\n').filter((l) => l === 'enable-ra' || /^dhcp-range=::|^dhcp-option=option6:/.test(l));

    it('plans advertisements for a /64 and not for a /80 or a /48', () => {
      const advertised = (subnet: string) => dnsmasqInputOf(v6Network(subnet, false), settings([])).ipv6?.routerAdvertisements;
      expect([advertised('fd00:1::/64'), advertised('fd00:1::/80'), advertised('fd00:1::/48')]).toEqual([true, false, false]);
    });

    it('renders an ra-only range for a /64 without dhcp, and ra-stateless with it', () => {
      expect(ipv6Lines(render(v6Network('fd00:1::/64', false)))).toEqual([
        'enable-ra',
        'dhcp-range=::,constructor:vmbr100,ra-only,64,3600',
        'dhcp-option=option6:dns-server,[fd00:1::1]',
        'dhcp-option=option6:domain-search,prod.c1.pvc.local',
      ]);
      expect(ipv6Lines(render(v6Network('fd00:1::/64', true)))).toContain('dhcp-range=::,constructor:vmbr100,ra-stateless,64,3600');
    });

    it.each(['fd00:1::/80', 'fd00:1::/48'])('renders no ipv6 range for %s (dnsmasq refuses one), the ipv4 service unchanged', (subnet) => {
      const text = render(v6Network(subnet, false));
      expect(ipv6Lines(text)).toEqual([]);
      expect(text).toContain(`# The IPv6 subnet is a /${subnet.split('/')[1]}, not a /64: no router advertisements`);
      expect(text).toMatch(/^dhcp-range=10\.100\.0\.100,10\.100\.0\.199,255\.255\.255\.0,3600$/m);
    });
  });

  it('is the same bytes for the same input, whatever order the zones come in', () => {
    const input = dnsmasqInputOf(dual, settings([dual, noDhcp]));
    const reversed = { ...input, forwardZones: [...input.forwardZones].reverse() };
    expect(renderDnsmasqConfig(reversed, PATHS)).toBe(renderDnsmasqConfig(input, PATHS));
  });

  it('forwards every served zone to powerdns, and every other name to the upstream resolvers', () => {
    const text = renderDnsmasqConfig(dnsmasqInputOf(dual, settings([dual, noDhcp])), PATHS);
    const servers = text.split('\n').filter((l) => l.startsWith('server='));
    expect(servers).toEqual([
      ...[
        'server=/200.10.in-addr.arpa/127.0.0.1#5300',
        'server=/0.100.10.in-addr.arpa/127.0.0.1#5300',
        'server=/c1.pvc.local/127.0.0.1#5300',
        'server=/lab.c1.pvc.local/127.0.0.1#5300',
        'server=/prod.c1.pvc.local/127.0.0.1#5300',
      ].sort(),
      'server=192.0.2.53',
      'server=2001:db8::53',
    ]);
  });
});

describe('dnsmasq files', () => {
  it('writes one hostsdir file per reservation, named by the mac, without the host name', () => {
    expect([...reservationFiles([RESERVATION_WEB, RESERVATION_ANON])]).toEqual([
      ['525400000101', '52:54:00:00:01:01,10.100.0.10\n'],
      ['525400000102', '52:54:00:00:01:02,10.100.0.11\n'],
    ]);
  });

  it('writes a lease file dnsmasq reads back, without host names', () => {
    const leases = [LEASE_VM2, { mac: '52:54:00:00:02:02', ipv4: '10.100.0.102', hostname: null, expiresAtS: 0 }];
    const text = leaseFileText(leases);
    expect(text).toBe('1800000000 52:54:00:00:02:01 10.100.0.101 * *\n0 52:54:00:00:02:02 10.100.0.102 * *\n');
    expect(parseLeaseFile(text)).toEqual(leases.map((l) => ({ expiresAtS: l.expiresAtS, mac: l.mac, ipv4: l.ipv4, hostname: null })));
  });
});

describe('powerdns config', () => {
  it('renders the default sqlite backend with caches off', () => {
    golden(
      'pdns.conf',
      renderPdnsConfig({
        backend: { launch: 'gsqlite3', settings: { 'gsqlite3-database': '/var/lib/pvc/services/pdns/pdns.sqlite3' } },
        dnsAddresses: ['127.0.0.1'],
        dnsPort: 5300,
        apiAddress: '127.0.0.1',
        apiPort: 8081,
        apiKey: 'test-key',
        socketDir: '/var/lib/pvc/services/pdns',
      }),
    );
  });

  it('refuses a setting that would smuggle in another line', () => {
    const input = { backend: { launch: 'gsqlite3', settings: { 'gsqlite3-database': '/x\napi=no' } }, dnsAddresses: ['127.0.0.1'], dnsPort: 1, apiAddress: '127.0.0.1', apiPort: 2, apiKey: 'k', socketDir: '/s' };
    expect(() => renderPdnsConfig(input)).toThrow(/must be one line/);
  });
});
