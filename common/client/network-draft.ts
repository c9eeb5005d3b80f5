// What a person (the CLI) or a program (the API) gives for a new network, or for a change to
// one, turned into the NetworkSpec to store: defaults filled in, addresses put in canonical form,
// and the result checked by the codec, so each rule lives in one place. Pure.
import { z } from 'zod';
import { PvcError } from '../errors.ts';
import { canonicalIp } from '../net/ip.ts';
import { canonicalIpv6, formatIpv6, parseIpv6Cidr } from '../net/ipv6.ts';
import { FIREWALL_POLICIES, NETWORK_TYPES, NetworkSpecDoc, type NetworkSpec } from '../zk/schema.ts';
import { firstIpv4Host, parseOrRefuse } from './network-validate.ts';

const policy = z.enum(FIREWALL_POLICIES);
const Ipv4Draft = z.strictObject({
  subnet: z.string(),
  gateway: z.string().optional(),
  dhcp: z.strictObject({ enabled: z.boolean().optional(), start: z.string().nullable().optional(), end: z.string().nullable().optional() }).optional(),
});
const Ipv6Draft = z.strictObject({ subnet: z.string(), gateway: z.string().optional(), dhcp: z.strictObject({ enabled: z.boolean().optional() }).optional() });
const FirewallDraft = z.strictObject({ defaultInbound: policy.optional(), defaultOutbound: policy.optional() });

/** A new network: the spec's fields, most of them optional. */
export const NetworkDraftDoc = z.strictObject({
  name: z.string(),
  type: z.enum(NETWORK_TYPES),
  vni: z.number().optional(),
  vlan: z.number().optional(),
  device: z.string().nullable().optional(),
  description: z.string().optional(),
  /** Default: `<name>.<the cluster's dnsZone>`. */
  domain: z.string().optional(),
  mtu: z.number().nullable().optional(),
  ipv4: Ipv4Draft.nullable().optional(),
  ipv6: Ipv6Draft.nullable().optional(),
  nameServers: z.array(z.string()).optional(),
  firewall: FirewallDraft.optional(),
});
export type NetworkDraft = z.infer<typeof NetworkDraftDoc>;

/** A change to a network: every field optional; `ipv4: null` (or ipv6) removes that family. */
export const NetworkPatchDoc = NetworkDraftDoc.omit({ name: true, type: true }).extend({
  ipv4: Ipv4Draft.partial().nullable().optional(),
  ipv6: Ipv6Draft.partial().nullable().optional(),
});
export type NetworkPatch = z.infer<typeof NetworkPatchDoc>;

const MANAGED_ONLY = ['vni', 'domain', 'ipv4', 'ipv6', 'nameServers', 'firewall'] as const;
const BRIDGED_ONLY = ['vlan', 'device'] as const;

function refuseFields(fields: object, type: string, forbidden: readonly string[], what: string): void {
  const given = forbidden.filter((f) => (fields as Record<string, unknown>)[f] !== undefined);
  if (given.length > 0) throw new PvcError('bad-input', `invalid ${what}: ${given.join(', ')} ${given.length === 1 ? 'does' : 'do'} not apply to a ${type} network`);
}

/** The canonical spelling of an address, or the text as given (the codec then names it). */
function canonical(text: string): string {
  return canonicalIp(text) ?? text;
}

/** An IPv6 subnet in canonical form (`FD00:1:0::/64` -> `fd00:1::/64`); the text as given when it is not one. */
function canonicalIpv6Subnet(text: string): string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? null : canonicalIpv6(text.slice(0, slash));
  return address === null ? text : `${address}${text.slice(slash)}`;
}

function defaultIpv6Gateway(subnetText: string): string | null {
  const subnet = parseIpv6Cidr(subnetText);
  return subnet ? formatIpv6(subnet.network + 1n) : null;
}

type Ipv4Input = z.infer<typeof Ipv4Draft>;
type Ipv6Input = z.infer<typeof Ipv6Draft>;

function ipv4Of(input: Ipv4Input): NonNullable<Extract<NetworkSpec, { type: 'managed' }>['ipv4']> {
  const start = input.dhcp?.start ?? null;
  const end = input.dhcp?.end ?? null;
  return {
    subnet: input.subnet,
    gateway: input.gateway ?? firstIpv4Host(input.subnet) ?? notASubnet(input.subnet, 'ipv4', '10.0.0.0/24'),
    // A range given means DHCP is wanted, unless it is turned off explicitly.
    dhcp: { enabled: input.dhcp?.enabled ?? (start !== null && end !== null), start, end },
  };
}

function ipv6Of(input: Ipv6Input): NonNullable<Extract<NetworkSpec, { type: 'managed' }>['ipv6']> {
  const subnet = canonicalIpv6Subnet(input.subnet);
  const gateway = input.gateway !== undefined ? canonical(input.gateway) : (defaultIpv6Gateway(subnet) ?? notASubnet(input.subnet, 'ipv6', 'fd00:1::/64'));
  return { subnet, gateway, dhcp: { enabled: input.dhcp?.enabled ?? false } };
}

function notASubnet(text: string, family: string, example: string): never {
  throw new PvcError('bad-input', `invalid ${family} subnet ${JSON.stringify(text)}: use a subnet such as ${example}`);
}

/** The spec of a new network, with defaults; refused (bad-input) naming the wrong value. */
export function networkSpecFromDraft(input: unknown, dnsZone: string): NetworkSpec {
  const given = (input as { name?: unknown } | null)?.name;
  const draft = parseOrRefuse(NetworkDraftDoc, input, typeof given === 'string' ? `network ${JSON.stringify(given)}` : 'network');
  const what = `network ${JSON.stringify(draft.name)}`;
  let spec: unknown;
  if (draft.type === 'managed') {
    refuseFields(draft, 'managed', BRIDGED_ONLY, what);
    if (draft.vni === undefined) throw new PvcError('bad-input', `invalid ${what}: a managed network needs a vni`);
    spec = {
      name: draft.name,
      type: 'managed',
      vni: draft.vni,
      description: draft.description ?? '',
      domain: draft.domain ?? `${draft.name}.${dnsZone}`,
      mtu: draft.mtu ?? null,
      ipv4: draft.ipv4 ? ipv4Of(draft.ipv4) : null,
      ipv6: draft.ipv6 ? ipv6Of(draft.ipv6) : null,
      nameServers: (draft.nameServers ?? []).map(canonical),
      firewall: { defaultInbound: draft.firewall?.defaultInbound ?? 'accept', defaultOutbound: draft.firewall?.defaultOutbound ?? 'accept' },
    };
  } else {
    refuseFields(draft, 'bridged', MANAGED_ONLY, what);
    if (draft.vlan === undefined) throw new PvcError('bad-input', `invalid ${what}: a bridged network needs a vlan`);
    spec = { name: draft.name, type: 'bridged', vlan: draft.vlan, device: draft.device ?? null, mtu: draft.mtu ?? null, description: draft.description ?? '' };
  }
  return parseOrRefuse(NetworkSpecDoc, spec, what);
}

/** `spec` with `patch` applied and checked; refused (bad-input) naming the wrong value. */
export function applyNetworkPatch(spec: NetworkSpec, input: unknown): NetworkSpec {
  const patch = parseOrRefuse(NetworkPatchDoc, input, `change to network ${spec.name}`);
  const what = `network ${spec.name}`;
  let next: unknown;
  if (spec.type === 'managed') {
    refuseFields(patch, 'managed', BRIDGED_ONLY, what);
    next = {
      ...spec,
      ...pick(patch, ['vni', 'description', 'domain', 'mtu']),
      ipv4: patchIpv4(spec.ipv4, patch.ipv4, what),
      ipv6: patchIpv6(spec.ipv6, patch.ipv6, what),
      nameServers: patch.nameServers ? patch.nameServers.map(canonical) : spec.nameServers,
      firewall: { ...spec.firewall, ...pick(patch.firewall ?? {}, ['defaultInbound', 'defaultOutbound']) },
    };
  } else {
    refuseFields(patch, 'bridged', MANAGED_ONLY, what);
    next = { ...spec, ...pick(patch, ['vlan', 'device', 'mtu', 'description']) };
  }
  return parseOrRefuse(NetworkSpecDoc, next, what);
}

/** The keys of `object` among `keys` whose value is not undefined (null is a value). */
function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) out[key] = object[key];
  return out;
}

type Managed = Extract<NetworkSpec, { type: 'managed' }>;

function patchIpv4(current: Managed['ipv4'], patch: NetworkPatch['ipv4'], what: string): Managed['ipv4'] {
  if (patch === undefined) return current;
  if (patch === null) return null;
  if (!current) {
    if (patch.subnet === undefined) throw new PvcError('bad-input', `invalid ${what}: it has no ipv4 subnet yet; give one`);
    return ipv4Of({ ...patch, subnet: patch.subnet });
  }
  const dhcp = { ...current.dhcp, ...pick(patch.dhcp ?? {}, ['enabled', 'start', 'end']) };
  return { subnet: patch.subnet ?? current.subnet, gateway: patch.gateway ?? current.gateway, dhcp };
}

function patchIpv6(current: Managed['ipv6'], patch: NetworkPatch['ipv6'], what: string): Managed['ipv6'] {
  if (patch === undefined) return current;
  if (patch === null) return null;
  if (!current) {
    if (patch.subnet === undefined) throw new PvcError('bad-input', `invalid ${what}: it has no ipv6 subnet yet; give one`);
    return ipv6Of({ ...patch, subnet: patch.subnet });
  }
  return {
    subnet: patch.subnet !== undefined ? canonicalIpv6Subnet(patch.subnet) : current.subnet,
    gateway: patch.gateway !== undefined ? canonical(patch.gateway) : current.gateway,
    dhcp: { enabled: patch.dhcp?.enabled ?? current.dhcp.enabled },
  };
}
