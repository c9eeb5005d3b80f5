// The links port: the network interfaces of one node (one network namespace) as pvcd needs
// them for its networks: bridges, VXLAN and VLAN interfaces, their bridge ports, MTU, state and
// addresses. Two adapters implement it: iproute.ts (iproute2's `ip` and `bridge`, JSON output)
// and sim.ts (in memory). The contract suite (test/contract/links.contract.ts) holds both to the
// same behaviour.
//
// Calls report what the kernel said; they are not made idempotent here (creating an existing
// link is an 'exists' error), so the executor decides what "already done" means.
import { isIP } from 'node:net';
import { PvcError, type PvcErrorCode } from '../../../common/errors.ts';

/** What pvc distinguishes; physical NICs and anything else without a link kind are 'device'. */
export type LinkKind = 'bridge' | 'vxlan' | 'vlan' | 'veth' | 'loopback' | 'device' | 'other';

export interface VxlanInfo {
  vni: number;
  /** The local VTEP address (the node's underlay address); null when none was given. */
  local: string | null;
  dstPort: number;
  /** Source-MAC learning on the VXLAN device itself; off for EVPN (BGP fills the FDB). */
  learning: boolean;
}

export interface LinkInfo {
  name: string;
  kind: LinkKind;
  /** The bridge this link is a port of. */
  master: string | null;
  mtu: number;
  /** Administratively up (`ip link set X up`); the carrier may still be missing. */
  up: boolean;
  /** The kernel's operational state: UP, DOWN, UNKNOWN, LOWERLAYERDOWN... */
  operState: string;
  macAddress: string | null;
  vxlan: VxlanInfo | null;
  /** For a VLAN interface: its id and the device it is stacked on. */
  vlan: { id: number; parent: string | null } | null;
  /** Bridge-port options, when the link is a port of a bridge. */
  bridgePort: { learning: boolean; neighSuppress: boolean } | null;
  /** Addresses with their prefix length, `10.0.0.1/24`, `fd00::1/64`; link-local IPv6 left out. */
  addresses: string[];
}

export interface CreateVxlan {
  name: string;
  vni: number;
  /** The node's VTEP (underlay) address. */
  local: string;
  dstPort: number;
  mtu: number;
}

export interface CreateVlan {
  name: string;
  parent: string;
  vlanId: number;
  mtu: number;
}

/** One forwarding-database entry of a bridge port (`bridge fdb show dev X`). */
export interface FdbEntry {
  mac: string;
  /** The remote VTEP of a VXLAN entry; null for local entries. */
  dst: string | null;
  /** e.g. ['self', 'extern_learn'] for a MAC that EVPN installed; 'permanent' shows as state. */
  flags: string[];
  state: string | null;
}

export interface LinksDriver {
  listLinks(): Promise<LinkInfo[]>;
  /** A bridge with STP off (one L2 segment per network; no loops to break), created down. */
  createBridge(name: string, mtu: number): Promise<void>;
  /** A VXLAN interface without learning (EVPN fills its FDB) and with no IPv6 link-local address, created down. */
  createVxlan(spec: CreateVxlan): Promise<void>;
  /** An 802.1Q VLAN interface on `parent`, created down. */
  createVlan(spec: CreateVlan): Promise<void>;
  /** Makes `name` a port of bridge `master`, or of no bridge (null). */
  setMaster(name: string, master: string | null): Promise<void>;
  /** Bridge-port options of a port: EVPN wants learning off and neighbour suppression on. */
  setBridgePort(name: string, options: { learning: boolean; neighSuppress: boolean }): Promise<void>;
  setMtu(name: string, mtu: number): Promise<void>;
  setUp(name: string, up: boolean): Promise<void>;
  /** Deletes the link; its ports stay, with no master (a VLAN goes with its parent). */
  deleteLink(name: string): Promise<void>;
  addAddress(name: string, cidr: string): Promise<void>;
  removeAddress(name: string, cidr: string): Promise<void>;
  /** The forwarding database entries of one bridge port (e.g. the MACs EVPN put on a VXLAN). */
  listFdb(device: string): Promise<FdbEntry[]>;
}

export type LinkOperation = 'list' | 'create' | 'set' | 'delete' | 'address' | 'fdb';

/**
 * not-found (no such link, or parent/master missing), exists (the name, or a VXLAN with the
 * same VNI, is taken), invalid (a value the kernel refuses: MTU out of range, a master that is not
 * a bridge), unsupported (the kernel lacks the link type, e.g. no 8021q), timeout, failed.
 */
export type LinkErrorKind = 'not-found' | 'exists' | 'invalid' | 'unsupported' | 'timeout' | 'failed';

const ERROR_CODES: Record<LinkErrorKind, PvcErrorCode> = {
  'not-found': 'not-found',
  exists: 'refused',
  invalid: 'bad-input',
  unsupported: 'refused',
  timeout: 'timeout',
  failed: 'refused',
};

export class LinkError extends PvcError {
  constructor(
    readonly kind: LinkErrorKind,
    readonly operation: LinkOperation,
    /** The link the call was about. */
    readonly link: string | null,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(ERROR_CODES[kind], `link ${operation}${link === null ? '' : ` ${JSON.stringify(link)}`}: ${detail}`, options);
    this.name = 'LinkError';
  }
}

export function isLinkError(error: unknown, kind?: LinkErrorKind): error is LinkError {
  return error instanceof LinkError && (kind === undefined || error.kind === kind);
}

/** Linux allows 15 characters in an interface name (IFNAMSIZ 16 with the NUL). */
export const MAX_LINK_NAME_LENGTH = 15;
const LINK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Both adapters refuse the same names, before anything runs. */
export function assertLinkName(operation: LinkOperation, name: string): void {
  if (name.length > MAX_LINK_NAME_LENGTH || !LINK_NAME.test(name)) {
    throw new LinkError('invalid', operation, name, `invalid interface name ${JSON.stringify(name)}: use up to ${MAX_LINK_NAME_LENGTH} letters, digits, '.', '_' or '-'`);
  }
}

/** The kernel's MTU bounds for the link types pvc creates (68 is IPv4's minimum). */
export const MIN_MTU = 68;
export const MAX_MTU = 65535;

export function assertMtu(operation: LinkOperation, name: string, mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) {
    throw new LinkError('invalid', operation, name, `mtu ${mtu} is out of range ${MIN_MTU}-${MAX_MTU}`);
  }
}

/** `address/prefix` with an IPv4 or IPv6 address and a prefix length that fits it. */
export function assertCidr(name: string, cidr: string): void {
  const [address, prefix, extra] = cidr.split('/');
  const family = isIP(address ?? '');
  const length = Number(prefix);
  const ok = extra === undefined && family !== 0 && /^\d{1,3}$/.test(prefix ?? '') && length <= (family === 4 ? 32 : 128);
  if (!ok) throw new LinkError('invalid', 'address', name, `invalid address ${JSON.stringify(cidr)}: use address/prefix-length`);
}
