// What the simulated bgpd reads from a rendered bgpd file: the neighbors activated in an address
// family, their remote AS, and whether the IPv4 policy (redistribute connected route-map, the
// neighbor's route-maps, prefix lists) lets a prefix through. Only the forms pvc's template writes
// (sim.ts refuses other lines): route-maps with `permit` entries matching one prefix list, prefix
// lists of exact prefixes or `any`. As in FRR, a route-map or prefix list that matches nothing, or
// is not defined, denies.
export type SimBgpFamily = 'l2vpn evpn' | 'ipv4 unicast';

function section(bgpd: string, family: SimBgpFamily): string {
  return new RegExp(`address-family ${family}\\n([\\s\\S]*?)exit-address-family`).exec(bgpd)?.[1] ?? '';
}

export function activatedNeighbors(bgpd: string, family: SimBgpFamily): string[] {
  return [...section(bgpd, family).matchAll(/neighbor (\S+) activate/g)].map((m) => m[1] as string);
}

/** The AS `neighbor X remote-as N` gives X; null when X is not a configured neighbor. */
export function remoteAsOf(bgpd: string, address: string): number | null {
  const line = [...bgpd.matchAll(/^ neighbor (\S+) remote-as (\d+)$/gm)].find((m) => m[1] === address);
  return line ? Number(line[2]) : null;
}

export function descriptionOf(bgpd: string, address: string): string | null {
  return [...bgpd.matchAll(/^ neighbor (\S+) description (.+)$/gm)].find((m) => m[1] === address)?.[2] ?? null;
}

function prefixListPermits(bgpd: string, name: string, prefix: string): boolean {
  const entries = [...bgpd.matchAll(/^ip prefix-list (\S+) seq (\d+) (permit|deny) (\S+)$/gm)]
    .filter((m) => m[1] === name)
    .sort((x, y) => Number(x[2]) - Number(y[2]));
  const hit = entries.find((m) => m[4] === 'any' || m[4] === prefix);
  return hit?.[3] === 'permit';
}

function routeMapPermits(bgpd: string, name: string, prefix: string): boolean {
  const entries = [...bgpd.matchAll(/^route-map (\S+) (permit|deny) (\d+)\n((?: .*\n)*)/gm)]
    .filter((m) => m[1] === name)
    .sort((x, y) => Number(x[3]) - Number(y[3]));
  for (const entry of entries) {
    const lists = [...(entry[4] ?? '').matchAll(/^ match ip address prefix-list (\S+)$/gm)].map((m) => m[1] as string);
    if (lists.every((list) => prefixListPermits(bgpd, list, prefix))) return entry[2] === 'permit';
  }
  return false;
}

/** The neighbor's `route-map M in|out` in ipv4 unicast; none lets everything through. */
function neighborPolicyPermits(bgpd: string, peer: string, direction: 'in' | 'out', prefix: string): boolean {
  const map = [...section(bgpd, 'ipv4 unicast').matchAll(/neighbor (\S+) route-map (\S+) (in|out)/g)].find((m) => m[1] === peer && m[3] === direction);
  return map === undefined || routeMapPermits(bgpd, map[2] as string, prefix);
}

/** The connected IPv4 subnets bgpd takes in (`redistribute connected [route-map M]`) and sends `peer`. */
export function exportedPrefixes(bgpd: string, peer: string, connected: readonly string[]): string[] {
  const redistribute = /redistribute connected(?: route-map (\S+))?/.exec(section(bgpd, 'ipv4 unicast'));
  if (!redistribute) return [];
  const map = redistribute[1];
  return [...new Set(connected)]
    .filter((prefix) => map === undefined || routeMapPermits(bgpd, map, prefix))
    .filter((prefix) => neighborPolicyPermits(bgpd, peer, 'out', prefix))
    .sort();
}

/** Of what `peer` sends, the prefixes this node's in policy accepts. */
export function acceptedPrefixes(bgpd: string, peer: string, sent: readonly string[]): string[] {
  return sent.filter((prefix) => neighborPolicyPermits(bgpd, peer, 'in', prefix));
}
