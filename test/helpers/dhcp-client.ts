// A "VM" asking for a DHCP lease (busybox udhcpc with our own hook, never dhclient-script) and
// looking names up (dig), inside the VM's network namespace.
import { fileURLToPath } from 'node:url';
import { execIn } from './netns.ts';

const HOOK = fileURLToPath(new URL('udhcpc-hook.sh', import.meta.url));

export interface ClientLease {
  ip: string;
  router: string;
  dns: string;
  domain: string;
}

/** One DHCP exchange (`tries` discovers, one second apart); null when no server answered. */
export async function requestLease(netns: string, device: string, hostname: string | null, tries = 3): Promise<ClientLease | null> {
  const args = ['udhcpc', '-i', device, '-f', '-q', '-n', '-t', String(tries), '-T', '1', '-s', HOOK, ...(hostname ? ['-x', `hostname:${hostname}`] : [])];
  try {
    const { stdout } = await execIn(netns, 'busybox', args, (tries + 5) * 1_000);
    const line = stdout.split('\n').find((l) => l.startsWith('PVC-LEASE '));
    if (!line) return null;
    const [, ip = '', router = '', dns = '', domain = ''] = line.split(' ');
    return { ip, router, dns, domain };
  } catch {
    return null;
  }
}

/** `dig +short` of one name at one server; [] when it has no answer, null when the server did not answer. */
export async function lookup(netns: string, server: string, name: string, type = 'A', port = 53): Promise<string[] | null> {
  try {
    const { stdout } = await execIn(netns, 'dig', ['+short', '+time=1', '+tries=1', '-p', String(port), `@${server}`, name, type], 5_000);
    if (/connection refused|timed out|no servers could be reached/.test(stdout)) return null;
    return stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith(';'));
  } catch {
    return null;
  }
}
