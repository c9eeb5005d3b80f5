// `network acl add|remove|list`: firewall rules of a managed network, one znode each, named by
// the rule's name. An add is a create-if-absent in a multi-op that checks the network's version,
// so a rule never lands on a network that was removed or turned bridged meanwhile.
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import { parseAnyCidr, canonicalIp, ipFamilyOf } from '../net/ip.ts';
import { ACL_DIRECTIONS, ACL_MAX_ORDER, NetworkAclDoc, sortAcls, type AclDirection, type NetworkAcl, type PortRange } from '../zk/schema.ts';
import { isZkError } from '../zk/store.ts';
import { NETWORK_MAX_ACLS, mustReadNetwork, readAcls, type NamedAcl, type NetworkTarget } from './network-read.ts';
import { parseOrRefuse } from './network-validate.ts';

/** A rule added without an order goes this far after the last of its direction. */
export const ACL_ORDER_STEP = 10;
export const ACL_WRITE_MAX_ATTEMPTS = 8;

export interface AclDraft {
  name: string;
  direction: string;
  action: string;
  /** Default: ACL_ORDER_STEP after the last rule of its direction. */
  order?: number;
  /** An address (one host) or a subnet; null or absent: any. */
  source?: string | null;
  destination?: string | null;
  protocol?: string;
  /** `22,80-90` or a list of ranges; null or absent: any port. */
  ports?: string | PortRange[] | null;
  description?: string;
}

/** `22,80-90` -> [{from: 22, to: 22}, {from: 80, to: 90}]; refused naming the bad part. */
export function parsePorts(text: string): PortRange[] {
  return text.split(',').map((part) => {
    const match = /^\s*(\d{1,5})(?:\s*-\s*(\d{1,5}))?\s*$/.exec(part);
    if (!match?.[1]) throw new PvcError('bad-input', `invalid port ${JSON.stringify(part)} in ${JSON.stringify(text)}: use numbers 1-65535 and ranges such as 80-90, separated by commas`);
    return { from: Number(match[1]), to: Number(match[2] ?? match[1]) };
  });
}

/** An address becomes its one-host subnet (/32, /128); a subnet is kept; host bits set are refused. */
export function aclEndpoint(text: string, field: string): string {
  const address = canonicalIp(text);
  if (address !== null) return `${address}/${ipFamilyOf(address) === 4 ? 32 : 128}`;
  const cidr = parseAnyCidr(text);
  if (!cidr) throw new PvcError('bad-input', `invalid acl ${field} ${JSON.stringify(text)}: use an address or a subnet such as 10.0.0.0/24`);
  if (!cidr.isNetwork) throw new PvcError('bad-input', `invalid acl ${field} ${text}: it has host bits set; the subnet is ${cidr.networkForm}`);
  return cidr.networkForm;
}

export function prepareAcl(draft: AclDraft, existing: readonly NamedAcl[]): NetworkAcl {
  assertName('acl', draft.name);
  if (!(ACL_DIRECTIONS as readonly string[]).includes(draft.direction)) {
    throw new PvcError('bad-input', `invalid acl direction ${JSON.stringify(draft.direction)}: use in (towards the network's vms) or out (from them)`);
  }
  const direction = draft.direction as AclDirection;
  const last = Math.max(-ACL_ORDER_STEP, ...existing.filter((a) => a.acl.direction === direction).map((a) => a.acl.order));
  const acl = {
    direction,
    order: draft.order ?? Math.min(last + ACL_ORDER_STEP, ACL_MAX_ORDER),
    action: draft.action,
    source: draft.source ? aclEndpoint(draft.source, 'source') : null,
    destination: draft.destination ? aclEndpoint(draft.destination, 'destination') : null,
    protocol: draft.protocol ?? 'any',
    ports: typeof draft.ports === 'string' ? parsePorts(draft.ports) : (draft.ports ?? null),
    description: draft.description ?? '',
  };
  return parseOrRefuse(NetworkAclDoc, acl, `acl ${draft.name}`);
}

export async function addAcl(target: NetworkTarget, network: string, draft: AclDraft): Promise<NamedAcl> {
  const { store, layout } = target;
  assertName('network', network);
  assertName('acl', draft.name);
  for (let attempt = 1; attempt <= ACL_WRITE_MAX_ATTEMPTS; attempt += 1) {
    const spec = await mustReadNetwork(target, network);
    if (spec.value.type !== 'managed') throw new PvcError('refused', `network ${network} is bridged: acls apply to managed networks only`);
    const existing = await readAcls(target, network);
    if (existing.some((a) => a.name === draft.name)) throw new PvcError('refused', `acl ${draft.name} already exists on network ${network}`);
    if (existing.length >= NETWORK_MAX_ACLS) throw new PvcError('refused', `network ${network} has ${existing.length} acls, the most pvc supports`);
    const acl = prepareAcl(draft, existing);
    try {
      await store.transaction().check(layout.network(network), spec.version).create(layout.networkAcl(network, draft.name), acl).commit();
      return { name: draft.name, acl };
    } catch (error) {
      if (!isZkError(error, 'BAD_VERSION') && !isZkError(error, 'NO_NODE') && !isZkError(error, 'NODE_EXISTS')) throw error;
    }
  }
  throw new PvcError('conflict', `gave up adding acl ${draft.name} to network ${network}: it changed ${ACL_WRITE_MAX_ATTEMPTS} times meanwhile`);
}

export async function removeAcl(target: NetworkTarget, network: string, name: string): Promise<NamedAcl> {
  const { store, layout } = target;
  assertName('network', network);
  assertName('acl', name);
  await mustReadNetwork(target, network);
  const found = await store.get(layout.networkAcl(network, name));
  if (!found) throw new PvcError('not-found', `network ${network} has no acl ${name}`);
  if (!(await store.removeIfPresent(layout.networkAcl(network, name)))) throw new PvcError('not-found', `network ${network} has no acl ${name}`);
  return { name, acl: found.value };
}

/** The rules in the order they apply (direction, order, name); only one direction when given. */
export async function listAcls(target: NetworkTarget, network: string, direction?: string): Promise<NamedAcl[]> {
  if (direction !== undefined && !(ACL_DIRECTIONS as readonly string[]).includes(direction)) {
    throw new PvcError('bad-input', `invalid acl direction ${JSON.stringify(direction)}: use in or out`);
  }
  await mustReadNetwork(target, network);
  const acls = await readAcls(target, network);
  return sortAcls(direction === undefined ? acls : acls.filter((a) => a.acl.direction === direction));
}
