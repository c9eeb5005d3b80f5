// Which local address this host's connections to a destination leave from: the `prefsrc` of
// `ip -json route get <destination>`, the kernel's own choice (routing table, policy rules).
// pvcd asks it once at start for the route to a Ceph monitor, whose answer is the IP its Ceph
// clients show up with (runtime/ceph-client-ip.ts). Runs in pvcd's own network namespace.
import { z } from 'zod';
import { run } from '../../../common/exec.ts';
import { canonicalIp } from '../../../common/net/ip.ts';

/** A route lookup is one netlink round trip; a stuck `ip` is killed after this. */
export const ROUTE_LOOKUP_TIMEOUT_MS = 5_000;

const RouteGet = z.array(z.object({ prefsrc: z.string().optional() })).min(1);

/** The canonical source address of `ip -json route get` output; null when the route has none. */
export function parseRouteGetSource(stdout: string): string | null {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (error) {
    throw new Error(`ip route get: output is not valid json: ${(error as Error).message}`, { cause: error });
  }
  const parsed = RouteGet.safeParse(json);
  if (!parsed.success) throw new Error(`ip route get: unexpected output ${JSON.stringify(stdout.slice(0, 200))}`);
  const source = parsed.data[0]?.prefsrc;
  return source === undefined ? null : canonicalIp(source);
}

/** The local address towards `destination` (an IP); throws ExecError when `ip` fails (no route, timeout). */
export async function routeSourceTo(destination: string, timeoutMs = ROUTE_LOOKUP_TIMEOUT_MS): Promise<string | null> {
  // Only an address reaches `ip` (never a name, nor something that reads as an option).
  if (canonicalIp(destination) === null) throw new Error(`ip route get: ${JSON.stringify(destination)} is not an ip address`);
  const { stdout } = await run('ip', ['-json', 'route', 'get', destination], { timeoutMs });
  return parseRouteGetSource(stdout);
}
