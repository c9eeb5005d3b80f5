// The pure planner of one node's network interfaces: (network specs, node facts, observed
// links) -> the actions that make the node match the specs. No IO, no clock.
//
// Per managed network: bridge vmbr<vni> with port vxlan<vni> (VTEP = the node's underlay address,
// learning off and neighbour suppression on: EVPN fills the FDB). Per bridged network: bridge
// vmbr<vlan> with port vlan<vlan> on the network's device (or the node's default). Interfaces named
// like pvc's own (vxlanN, vlanN, vmbrN) that no network wants are deleted; nothing else is touched.
// Addresses are left alone: the gateway address on a bridge belongs to the primary's services.
import { ipFamilyOf } from '../../common/net/ip.ts';
import { bridgeNameOf, memberInterfaceOf, type NetworkSpec } from '../../common/zk/schema.ts';
import type { LinkInfo } from '../drivers/links/port.ts';

/** IANA's VXLAN port; FRR and every switch expect it. */
export const VXLAN_DST_PORT = 4789;
/** Outer Ethernet-less headers of a VXLAN packet: IP (20 or 40) + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD_IPV4_BYTES = 50;
export const VXLAN_OVERHEAD_IPV6_BYTES = 70;
/** The MTU assumed for an underlay the node cannot see. */
export const DEFAULT_UNDERLAY_MTU = 1500;
/** The names pvc gives its interfaces; only these are ever deleted. */
export const OWNED_LINK_NAME = /^(vxlan|vlan|vmbr)\d+$/;

/** What the node's pvcd config says about its network (see daemon/config.ts `network`). */
export interface NodeNetworkFacts {
  /** This node's underlay address, the local end of every VXLAN; null: no managed network here. */
  vtepAddress: string | null;
  /** The underlay NIC, for the default MTU of managed networks. */
  underlayDevice: string | null;
  /** The device of bridged networks that name none. */
  bridgedDevice: string | null;
}

export type LinkAction =
  | { type: 'delete'; name: string; reason: string }
  | { type: 'create-bridge'; name: string; mtu: number }
  | { type: 'create-vxlan'; name: string; vni: number; local: string; dstPort: number; mtu: number }
  | { type: 'create-vlan'; name: string; parent: string; vlanId: number; mtu: number }
  | { type: 'set-mtu'; name: string; mtu: number }
  | { type: 'set-master'; name: string; master: string }
  | { type: 'set-bridge-port'; name: string; learning: boolean; neighSuppress: boolean }
  | { type: 'set-up'; name: string };

export interface NetworkProblem {
  network: string;
  reason: string;
}

export interface LinkPlan {
  actions: LinkAction[];
  /** Networks this node cannot serve (their interfaces are neither created nor deleted). */
  problems: NetworkProblem[];
  /** network name -> bridge, for every network whose interfaces exist once the actions are done. */
  bridges: Record<string, string>;
}

interface Member {
  name: string;
  /** What the member must look like; a mismatch means delete and create again. */
  matches(link: LinkInfo): boolean;
  create: LinkAction;
  /** EVPN's port options; null: the kernel's defaults are fine (VLAN ports learn). */
  port: { learning: boolean; neighSuppress: boolean } | null;
}

interface Wanted {
  network: string;
  bridge: string;
  mtu: number;
  member: Member;
}

export function planNetworkLinks(specs: readonly NetworkSpec[], facts: NodeNetworkFacts, observed: readonly LinkInfo[]): LinkPlan {
  const links = new Map(observed.map((l) => [l.name, l]));
  const problems: NetworkProblem[] = [];
  const wanted: Wanted[] = [];
  /** Names of networks with problems: left as they are. */
  const kept = new Set<string>();
  const claimed = new Map<string, string>();
  for (const spec of [...specs].sort((a, b) => a.name.localeCompare(b.name))) {
    const bridge = bridgeNameOf(spec);
    const memberName = memberInterfaceOf(spec);
    const owner = claimed.get(bridge) ?? claimed.get(memberName);
    if (owner !== undefined) {
      problems.push({ network: spec.name, reason: `bridge ${bridge} is already used by network ${owner}` });
      continue;
    }
    const result = wantedFor(spec, facts, links);
    claimed.set(bridge, spec.name);
    claimed.set(memberName, spec.name);
    if (typeof result === 'string') {
      problems.push({ network: spec.name, reason: result });
      kept.add(bridge);
      kept.add(memberName);
    } else wanted.push(result);
  }

  const deletes: LinkAction[] = [];
  const rest: LinkAction[] = [];
  const wantedNames = new Set(wanted.flatMap((w) => [w.bridge, w.member.name]));
  // Ports first, then bridges: a bridge's ports never linger half-configured.
  const orphans = observed.filter((l) => OWNED_LINK_NAME.test(l.name) && !wantedNames.has(l.name) && !kept.has(l.name));
  for (const link of [...orphans].sort((a, b) => Number(a.name.startsWith('vmbr')) - Number(b.name.startsWith('vmbr')) || a.name.localeCompare(b.name))) {
    deletes.push({ type: 'delete', name: link.name, reason: 'no network wants it' });
  }
  for (const w of wanted) rest.push(...networkActions(w, links, deletes));
  return { actions: [...deletes, ...rest], problems, bridges: Object.fromEntries(wanted.map((w) => [w.network, w.bridge])) };
}

function wantedFor(spec: NetworkSpec, facts: NodeNetworkFacts, links: ReadonlyMap<string, LinkInfo>): Wanted | string {
  const bridge = bridgeNameOf(spec);
  const name = memberInterfaceOf(spec);
  switch (spec.type) {
    case 'managed': {
      const local = facts.vtepAddress;
      if (local === null) return 'this node has no vtep address (network.vtepAddress in its pvcd config)';
      const underlayMtu = (facts.underlayDevice === null ? undefined : links.get(facts.underlayDevice)?.mtu) ?? DEFAULT_UNDERLAY_MTU;
      const mtu = spec.mtu ?? underlayMtu - (ipFamilyOf(local) === 6 ? VXLAN_OVERHEAD_IPV6_BYTES : VXLAN_OVERHEAD_IPV4_BYTES);
      const vni = spec.vni;
      return {
        network: spec.name,
        bridge,
        mtu,
        member: {
          name,
          matches: (l) => l.kind === 'vxlan' && l.vxlan !== null && l.vxlan.vni === vni && l.vxlan.local === local && l.vxlan.dstPort === VXLAN_DST_PORT && !l.vxlan.learning,
          create: { type: 'create-vxlan', name, vni, local, dstPort: VXLAN_DST_PORT, mtu },
          port: { learning: false, neighSuppress: true },
        },
      };
    }
    case 'bridged': {
      const parent = spec.device ?? facts.bridgedDevice;
      if (parent === null) return 'the network names no device and this node has no default (network.bridgedDevice in its pvcd config)';
      const device = links.get(parent);
      if (!device) return `device ${parent} does not exist on this node`;
      const mtu = spec.mtu ?? device.mtu;
      const vlanId = spec.vlan;
      return {
        network: spec.name,
        bridge,
        mtu,
        member: {
          name,
          matches: (l) => l.kind === 'vlan' && l.vlan !== null && l.vlan.id === vlanId && l.vlan.parent === parent,
          create: { type: 'create-vlan', name, parent, vlanId, mtu },
          port: null,
        },
      };
    }
    default: {
      const unknown: never = spec;
      throw new Error(`unknown network type ${JSON.stringify(unknown)}`);
    }
  }
}

/** The steps of one network; a link of the wrong shape is deleted (into `deletes`) and made again. */
function networkActions(w: Wanted, links: ReadonlyMap<string, LinkInfo>, deletes: LinkAction[]): LinkAction[] {
  const out: LinkAction[] = [];
  let bridge = links.get(w.bridge);
  if (bridge && bridge.kind !== 'bridge') {
    deletes.push({ type: 'delete', name: w.bridge, reason: `it is a ${bridge.kind}, not a bridge` });
    bridge = undefined;
  }
  let member = links.get(w.member.name);
  if (member && !w.member.matches(member)) {
    deletes.push({ type: 'delete', name: w.member.name, reason: 'its settings differ from the network (they cannot be changed in place)' });
    member = undefined;
  }
  if (!bridge) out.push({ type: 'create-bridge', name: w.bridge, mtu: w.mtu });
  if (!member) out.push(w.member.create);
  // The port first: a bridge's MTU follows its ports unless set, so set it last.
  if (member && member.mtu !== w.mtu) out.push({ type: 'set-mtu', name: w.member.name, mtu: w.mtu });
  if (bridge && bridge.mtu !== w.mtu) out.push({ type: 'set-mtu', name: w.bridge, mtu: w.mtu });
  const enslaved = bridge !== undefined && member?.master === w.bridge;
  if (!enslaved) out.push({ type: 'set-master', name: w.member.name, master: w.bridge });
  const port = w.member.port;
  if (port && (!enslaved || member?.bridgePort?.learning !== port.learning || member?.bridgePort?.neighSuppress !== port.neighSuppress)) {
    out.push({ type: 'set-bridge-port', name: w.member.name, ...port });
  }
  if (!member?.up) out.push({ type: 'set-up', name: w.member.name });
  if (!bridge?.up) out.push({ type: 'set-up', name: w.bridge });
  return out;
}
