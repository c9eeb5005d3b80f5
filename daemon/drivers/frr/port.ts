// The FRR port: one node's routing daemons (zebra + bgpd) as pvcd needs them for BGP EVPN and
// the coordinators' upstream peers: bring them to a rendered configuration (starting them,
// reloading bgpd in place, or restarting it when the AS or router id changed), and read back the
// EVPN and IPv4 unicast state. Two adapters: daemons.ts
// (the real FRR 8.4 daemons and vtysh) and sim.ts (in memory). The contract suite
// (test/contract/frr.contract.ts) holds both to the same behaviour.
import { isIP } from 'node:net';
import { PvcError, type PvcErrorCode } from '../../../common/errors.ts';

/** What the FRR driver applies: the two files, and the facts it needs to reload bgpd in place. */
export interface FrrConfig {
  zebra: string;
  bgpd: string;
  asn: number;
  routerId: string;
  /** Every BGP neighbor address the bgpd file names; any other that runs is removed on reload. */
  neighbors: string[];
  /** Prefix lists the file defines in full; a reload clears them first, so removed entries go. */
  prefixLists: Array<{ family: 4 | 6; name: string }>;
}

/**
 * started: the daemons were not running and now run with the config; unchanged: they run with
 * it already; reloaded: bgpd took the change in place (sessions of kept peers stay up);
 * restarted: the AS or router id changed, which bgpd cannot change in place.
 */
export type FrrApplyResult = 'started' | 'unchanged' | 'reloaded' | 'restarted';

export interface BgpPeer {
  address: string;
  /** BGP FSM state as FRR names it: Idle, Connect, Active, OpenSent, OpenConfirm, Established. */
  state: string;
  remoteAs: number;
  /** Prefixes received from the peer (EVPN routes, or IPv4 prefixes), after the in policy. */
  prefixesReceived: number;
  /** How many times the session came up: unchanged across a reload proves it stayed up. */
  establishedCount: number;
  description: string | null;
}

export interface EvpnVni {
  vni: number;
  /** The VXLAN interface zebra found for the VNI. */
  vxlanInterface: string;
  /** MACs known in the VNI, local and remote. */
  macs: number;
  /** Other VTEPs with this VNI, learned through EVPN type-3 routes. */
  remoteVteps: number;
}

export interface FrrDriver {
  /** Brings zebra and bgpd to `config`; a pvcd restart adopts daemons that already run. */
  apply(config: FrrConfig): Promise<FrrApplyResult>;
  running(): Promise<{ zebra: boolean; bgpd: boolean }>;
  /** The l2vpn evpn peers (`show bgp l2vpn evpn summary json`). */
  evpnPeers(): Promise<BgpPeer[]>;
  /** The ipv4 unicast peers, i.e. the upstream routers (`show bgp ipv4 unicast summary json`). */
  unicastPeers(): Promise<BgpPeer[]>;
  /**
   * The IPv4 prefixes bgpd sends `peer` after its out policy, sorted (`show bgp ipv4 unicast
   * neighbors PEER advertised-routes json`); a 'failed' error when `peer` is not a neighbor.
   */
  advertisedRoutes(peer: string): Promise<string[]>;
  /** The VNIs zebra advertises (`show evpn vni json`). */
  evpnVnis(): Promise<EvpnVni[]>;
  /** Stops both daemons (tests, teardown); pvcd itself leaves them running when it stops. */
  stop(): Promise<void>;
}

export type FrrOperation = 'apply' | 'start' | 'stop' | 'reload' | 'query';

/**
 * not-running (vtysh reached no daemon), invalid-config (a line bgpd refused), start-failed (a
 * daemon did not come up), timeout, failed.
 */
export type FrrErrorKind = 'not-running' | 'invalid-config' | 'start-failed' | 'timeout' | 'failed';

const ERROR_CODES: Record<FrrErrorKind, PvcErrorCode> = {
  'not-running': 'refused',
  'invalid-config': 'bad-input',
  'start-failed': 'refused',
  timeout: 'timeout',
  failed: 'refused',
};

export class FrrError extends PvcError {
  constructor(
    readonly kind: FrrErrorKind,
    readonly operation: FrrOperation,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(ERROR_CODES[kind], `frr ${operation}: ${detail}`, options);
    this.name = 'FrrError';
  }
}

/** Both adapters refuse a peer that is not an IP address before anything runs (it goes into a vtysh command). */
export function assertPeerAddress(peer: string): void {
  if (isIP(peer) === 0) throw new FrrError('failed', 'query', `${JSON.stringify(peer)} is not an IP address`);
}

export function isFrrError(error: unknown, kind?: FrrErrorKind): error is FrrError {
  return error instanceof FrrError && (kind === undefined || error.kind === kind);
}
