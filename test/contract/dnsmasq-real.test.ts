// The DHCP contract against real dnsmasq: a "server" namespace with bridge vmbr7 (10.77.7.1/24)
// and a "client" namespace whose eth0 is a veth into that bridge; dnsmasq runs in the server
// namespace through the driver's netns option, its files under this run's folder. Then the
// configs pvc renders for IPv6 subnets of several lengths, checked by dnsmasq's own parser.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ExecError, run } from '../../common/exec.ts';
import { DnsmasqDriver } from '../../daemon/drivers/dnsmasq/dnsmasq.ts';
import { renderDnsmasqConfig } from '../../daemon/drivers/dnsmasq/render.ts';
import { dnsmasqInputOf } from '../../daemon/reconcile/dhcp-plan.ts';
import { sendSignal } from '../../daemon/drivers/service-process.ts';
import { readFileSync } from 'node:fs';
import { requestLease } from '../helpers/dhcp-client.ts';
import { managedNetwork } from '../helpers/network-fixtures.ts';
import { addNetns, deleteNetns, ipIn, netnsName } from '../helpers/netns.ts';
import { dhcpContract } from './dnsmasq.contract.ts';

dhcpContract('dnsmasq in a netns', async () => {
  const server = netnsName('dmsrv');
  const client = netnsName('dmcli');
  await addNetns(server);
  await addNetns(client);
  await ipIn(server, ['link', 'add', 'vmbr7', 'type', 'bridge']);
  await ipIn(server, ['addr', 'add', '10.77.7.1/24', 'dev', 'vmbr7']);
  await ipIn(server, ['link', 'set', 'vmbr7', 'up']);
  await ipIn(server, ['link', 'add', 'port0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client]);
  await ipIn(server, ['link', 'set', 'port0', 'master', 'vmbr7', 'up']);
  await ipIn(client, ['link', 'set', 'eth0', 'up']);
  const network = 'contract7';
  const driver = new DnsmasqDriver({ stateDir: path.join(inject('testRunDir'), `dnsmasq-contract-${process.pid}`), netns: server });
  const spec = managedNetwork({ name: network, vni: 7, domain: 'contract7.test', ipv4: { subnet: '10.77.7.0/24', gateway: '10.77.7.1', dhcp: { enabled: true, start: '10.77.7.100', end: '10.77.7.150' } } });
  const configText = renderDnsmasqConfig(dnsmasqInputOf(spec, { leaseTimeS: 600, pdns: { address: '127.0.0.1', port: 5300 }, servedZones: [], upstreamResolvers: [], logDhcp: true }), driver.pathsOf(network));
  return {
    driver,
    network,
    configText,
    range: { start: '10.77.7.100', end: '10.77.7.150' },
    failingConfig: () => `${configText}dhcp-range=bogus\n`,
    requestLease: async (mac, hostname) => {
      await ipIn(client, ['addr', 'flush', 'dev', 'eth0']);
      await ipIn(client, ['link', 'set', 'eth0', 'address', mac]);
      return (await requestLease(client, 'eth0', hostname, 2))?.ip ?? null;
    },
    crash: async () => sendSignal(Number(readFileSync(driver.pathsOf(network).pidFile, 'utf8').trim()), 'SIGKILL'),
    stop: async () => {
      await driver.closeAll();
      await deleteNetns(client);
      await deleteNetns(server);
    },
  };
});

/** `dnsmasq --test` only parses its config: well under a second. */
const DNSMASQ_TEST_TIMEOUT_MS = 10_000;

describe('dnsmasq accepts the config rendered for each ipv6 prefix length', () => {
  const driver = new DnsmasqDriver({ stateDir: path.join(inject('testRunDir'), `dnsmasq-config-${process.pid}`), netns: null });
  const settings = { leaseTimeS: 600, pdns: { address: '127.0.0.1', port: 5300 }, servedZones: ['prod.c1.pvc.local'], upstreamResolvers: [], logDhcp: false };

  /** Writes `configText` where the driver would and runs dnsmasq's syntax check of it. */
  async function dnsmasqTest(network: string, configText: string): Promise<string> {
    const paths = driver.pathsOf(network);
    mkdirSync(paths.dir, { recursive: true });
    writeFileSync(paths.configFile, configText);
    const { stderr } = await run('dnsmasq', ['--test', `--conf-file=${paths.configFile}`], { timeoutMs: DNSMASQ_TEST_TIMEOUT_MS });
    return stderr;
  }

  const rendered = (network: string, subnet: string, dhcp: boolean) => {
    const spec = managedNetwork({ name: network, ipv6: { subnet, gateway: subnet.replace(/::\/\d+$/, '::1'), dhcp: { enabled: dhcp } } });
    return renderDnsmasqConfig(dnsmasqInputOf(spec, settings), driver.pathsOf(network));
  };

  it.each([
    ['v6x64dhcp', 'fd00:1::/64', true, 'ra-stateless'],
    ['v6x64', 'fd00:1::/64', false, 'ra-only'],
    ['v6x80', 'fd00:1::/80', false, null],
    ['v6x48', 'fd00:1::/48', false, null],
  ] as const)('%s: %s (dhcp %s)', async (network, subnet, dhcp, mode) => {
    const text = rendered(network, subnet, dhcp);
    // The range is there exactly when advertisements are sent; either way dnsmasq starts.
    expect(text.match(/^dhcp-range=::.*$/m)?.[0] ?? null).toBe(mode && `dhcp-range=::,constructor:vmbr100,${mode},64,600`);
    expect(await dnsmasqTest(network, text)).toContain('syntax check OK');
  });

  it('refuses the advertisement range pvc no longer renders for a /80 (what the check above guards against)', async () => {
    const withRa = `${rendered('v6x80ra', 'fd00:1::/80', false)}enable-ra\ndhcp-range=::,constructor:vmbr100,ra-only,80,600\n`;
    const error = await dnsmasqTest('v6x80ra', withRa).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ExecError);
    expect((error as ExecError).stderr).toMatch(/prefix length must be exactly 64/);
  });
});
