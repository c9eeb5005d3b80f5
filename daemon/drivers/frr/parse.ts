// Pure parsers of vtysh output (FRR 8.4): `show bgp {l2vpn evpn|ipv4 unicast} summary json`,
// `show bgp ipv4 unicast neighbors X advertised-routes json`, `show evpn vni json`, `show bgp
// neighbors json` and the `router bgp` lines of `show running-config`. Tested on captured output
// (test/unit/fixtures/frr/).
import type { BgpPeer, EvpnVni } from './port.ts';

type Json = Record<string, unknown>;

function asObject(value: unknown): Json | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null;
}

const num = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

function parseJsonObject(text: string, what: string): Json {
  let value: unknown;
  try {
    // vtysh prints nothing for some commands when the daemon has nothing to say.
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new Error(`vtysh ${what}: not valid json: ${(error as Error).message}`, { cause: error });
  }
  const object = asObject(value);
  if (!object) throw new Error(`vtysh ${what}: not a json object`);
  return object;
}

/**
 * `show bgp l2vpn evpn summary json` and `show bgp ipv4 unicast summary json` (same shape): `{}`
 * when bgpd has no peers in the family, else `{peers: {addr: {...}}}`.
 */
export function parseBgpSummary(text: string): BgpPeer[] {
  const summary = parseJsonObject(text, 'show bgp summary');
  const peers = asObject(summary.peers) ?? {};
  return Object.entries(peers)
    .map(([address, value]) => {
      const peer = asObject(value) ?? {};
      return {
        address,
        state: typeof peer.state === 'string' ? peer.state : 'Unknown',
        remoteAs: num(peer.remoteAs, 0),
        prefixesReceived: num(peer.pfxRcd, 0),
        establishedCount: num(peer.connectionsEstablished, 0),
        description: typeof peer.desc === 'string' ? peer.desc : null,
      };
    })
    .sort((a, b) => a.address.localeCompare(b.address));
}

/**
 * `show bgp ipv4 unicast neighbors X advertised-routes json`: `{advertisedRoutes: {prefix: {...}}}`
 * (empty when nothing passes the out policy); `{warning: ...}` when X is no neighbor, which is an
 * error here, not "nothing advertised".
 */
export function parseAdvertisedRoutes(text: string): string[] {
  const answer = parseJsonObject(text, 'show advertised-routes');
  if (typeof answer.warning === 'string') throw new Error(`vtysh show advertised-routes: ${answer.warning}`);
  return Object.keys(asObject(answer.advertisedRoutes) ?? {}).sort();
}

/** `show evpn vni json`: `{ "<vni>": {vni, type, vxlanIf, numMacs, numRemoteVteps, ...} }`. */
export function parseEvpnVnis(text: string): EvpnVni[] {
  const vnis = parseJsonObject(text, 'show evpn vni');
  return Object.values(vnis)
    .map((value) => asObject(value))
    .filter((vni): vni is Json => vni !== null && typeof vni.vni === 'number')
    .map((vni) => ({
      vni: vni.vni as number,
      vxlanInterface: typeof vni.vxlanIf === 'string' ? vni.vxlanIf : '',
      macs: num(vni.numMacs, 0),
      // A number in the summary; some versions list the VTEPs instead.
      remoteVteps: Array.isArray(vni.numRemoteVteps) ? vni.numRemoteVteps.length : num(vni.numRemoteVteps, 0),
    }))
    .sort((a, b) => a.vni - b.vni);
}

/** `show bgp neighbors json`: the configured neighbors are its keys. */
export function parseNeighborAddresses(text: string): string[] {
  return Object.keys(parseJsonObject(text, 'show bgp neighbors')).sort();
}

/** The AS and router id bgpd runs with, from `show running-config`; nulls when BGP is not configured. */
export function parseRunningBgp(text: string): { asn: number | null; routerId: string | null } {
  const asn = /^router bgp (\d+)\s*$/m.exec(text);
  const routerId = /^ bgp router-id (\S+)\s*$/m.exec(text);
  return { asn: asn ? Number(asn[1]) : null, routerId: routerId ? (routerId[1] as string) : null };
}
