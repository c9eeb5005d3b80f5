// Command-line options of `pvc network add|modify` turned into the client's draft and patch
// (common/client/network-draft.ts), which check and complete them. Light: loaded with every
// command, so nothing but the error type is imported.
import { PvcError } from '../common/errors.ts';
import { parseCount } from './vm-args.ts';

/** Mirror the codec's limits (common/zk/network-schema.ts) without loading it for every command. */
const VNI_MAX = 16_777_215;
const VLAN_MAX = 4_094;
const MTU_MAX = 65_535;
/** `--mtu auto` (or `--device default`) stores null: the kernel's (or the node's) choice. */
const AUTO_WORDS = ['auto', 'default'];

export interface NetworkCliOptions {
  type?: string;
  vni?: string;
  vlan?: string;
  device?: string;
  description?: string;
  domain?: string;
  mtu?: string;
  ipv4?: string;
  gateway4?: string;
  dhcp4?: boolean;
  dhcp4Start?: string;
  dhcp4End?: string;
  removeIpv4?: boolean;
  ipv6?: string;
  gateway6?: string;
  dhcp6?: boolean;
  removeIpv6?: boolean;
  nameServer?: string[];
  clearNameServers?: boolean;
  firewallIn?: string;
  firewallOut?: string;
}

/** Commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function mtuOf(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  return AUTO_WORDS.includes(text) ? null : parseCount('--mtu', text, 1, MTU_MAX);
}

function deviceOf(text: string | undefined): string | null | undefined {
  if (text === undefined) return undefined;
  return AUTO_WORDS.includes(text) ? null : text;
}

function defined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function firewallOf(o: NetworkCliOptions): object | undefined {
  if (o.firewallIn === undefined && o.firewallOut === undefined) return undefined;
  return defined({ defaultInbound: o.firewallIn, defaultOutbound: o.firewallOut });
}

function ipv4PatchOf(o: NetworkCliOptions): object | null | undefined {
  const given = [o.ipv4, o.gateway4, o.dhcp4, o.dhcp4Start, o.dhcp4End].some((v) => v !== undefined);
  if (o.removeIpv4) {
    if (given) throw new PvcError('bad-input', '--remove-ipv4 cannot be given with other ipv4 options');
    return null;
  }
  if (!given) return undefined;
  const dhcp = defined({ enabled: o.dhcp4, start: o.dhcp4Start, end: o.dhcp4End });
  return defined({ subnet: o.ipv4, gateway: o.gateway4, dhcp: Object.keys(dhcp).length > 0 ? dhcp : undefined });
}

function ipv6PatchOf(o: NetworkCliOptions): object | null | undefined {
  const given = [o.ipv6, o.gateway6, o.dhcp6].some((v) => v !== undefined);
  if (o.removeIpv6) {
    if (given) throw new PvcError('bad-input', '--remove-ipv6 cannot be given with other ipv6 options');
    return null;
  }
  if (!given) return undefined;
  return defined({ subnet: o.ipv6, gateway: o.gateway6, dhcp: o.dhcp6 === undefined ? undefined : { enabled: o.dhcp6 } });
}

function nameServersOf(o: NetworkCliOptions): string[] | undefined {
  if (o.clearNameServers && o.nameServer) throw new PvcError('bad-input', 'give either --name-server or --clear-name-servers, not both');
  return o.clearNameServers ? [] : o.nameServer;
}

/** The fields both add and modify take. */
function commonFields(o: NetworkCliOptions): Record<string, unknown> {
  return defined({
    vni: o.vni === undefined ? undefined : parseCount('--vni', o.vni, 1, VNI_MAX),
    vlan: o.vlan === undefined ? undefined : parseCount('--vlan', o.vlan, 1, VLAN_MAX),
    device: deviceOf(o.device),
    description: o.description,
    domain: o.domain,
    mtu: mtuOf(o.mtu),
    nameServers: nameServersOf(o),
    firewall: firewallOf(o),
  });
}

/** The draft of `network add`. */
export function networkDraftOf(name: string, o: NetworkCliOptions): Record<string, unknown> {
  const type = o.type ?? 'managed';
  if (type !== 'managed' && type !== 'bridged') throw new PvcError('bad-input', `invalid --type ${JSON.stringify(type)}: use managed or bridged`);
  if (o.removeIpv4 || o.removeIpv6) throw new PvcError('bad-input', '--remove-ipv4 and --remove-ipv6 are for `network modify`');
  const ipv4 = ipv4PatchOf(o) as { subnet?: string } | undefined;
  const ipv6 = ipv6PatchOf(o) as { subnet?: string } | undefined;
  if (ipv4 && ipv4.subnet === undefined) throw new PvcError('bad-input', 'ipv4 options need the subnet: give --ipv4 SUBNET');
  if (ipv6 && ipv6.subnet === undefined) throw new PvcError('bad-input', 'ipv6 options need the subnet: give --ipv6 SUBNET');
  return { name, type, ...commonFields(o), ...defined({ ipv4, ipv6 }) };
}

/** The patch of `network modify`; refused when it changes nothing. */
export function networkPatchOf(o: NetworkCliOptions): Record<string, unknown> {
  if (o.type !== undefined) throw new PvcError('bad-input', 'the type of a network cannot change: remove it and add it again');
  const patch = { ...commonFields(o), ...defined({ ipv4: ipv4PatchOf(o), ipv6: ipv6PatchOf(o) }) };
  if (Object.keys(patch).length === 0) throw new PvcError('bad-input', 'nothing to change: give at least one option (see pvc network modify --help)');
  return patch;
}
