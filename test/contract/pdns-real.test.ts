// The DNS contract against real PowerDNS (sqlite backend), twice: on loopback, reached with
// fetch, on ports the kernel picked free; and inside a network namespace, reached with curl in
// it (as pvcd reaches the services of a node namespace in the tests and the local cluster).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { inject } from 'vitest';
import { run } from '../../common/exec.ts';
import { PdnsDriver } from '../../daemon/drivers/pdns/pdns.ts';
import { sendSignal, waitUntilGone } from '../../daemon/drivers/service-process.ts';
import { lookup } from '../helpers/dhcp-client.ts';
import { addNetns, deleteNetns, netnsName } from '../helpers/netns.ts';
import { dnsContract, type DnsHarness } from './pdns.contract.ts';

/** A TCP port nobody listens on right now (the kernel's pick). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function harness(netns: string | null, stateDir: string): Promise<DnsHarness> {
  const [dnsPort, apiPort] = netns === null ? [await freePort(), await freePort()] : [5300, 8081];
  const driver = new PdnsDriver({ stateDir, netns, dnsAddresses: ['127.0.0.1'], dnsPort, apiAddress: '127.0.0.1', apiPort, apiKey: null, backend: null });
  const pidFile = path.join(stateDir, 'pdns', 'pdns.pid');
  return {
    driver,
    resolve: async (name, type) => {
      if (netns !== null) return lookup(netns, '127.0.0.1', name, type, dnsPort);
      try {
        const { stdout } = await run('dig', ['+short', '+time=1', '+tries=1', '-p', String(dnsPort), '@127.0.0.1', name, type], { timeoutMs: 5_000 });
        return stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith(';'));
      } catch {
        return null;
      }
    },
    crash: async () => {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      sendSignal(pid, 'SIGKILL');
      await waitUntilGone(pid, 5_000);
    },
    stop: async () => {
      await driver.closeAll();
      if (netns !== null) await deleteNetns(netns);
    },
  };
}

dnsContract('pdns_server on loopback (fetch)', () => harness(null, path.join(inject('testRunDir'), `pdns-contract-lo-${process.pid}`)));

dnsContract('pdns_server in a netns (curl)', async () => {
  const ns = netnsName('pdns');
  await addNetns(ns);
  return harness(ns, path.join(inject('testRunDir'), `pdns-contract-ns-${process.pid}`));
});
