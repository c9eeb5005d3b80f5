// The rules of pvc networks that span documents, and the turning of what a person gives into a
// stored value. Pure (no IO): the writers in network-write.ts, network-dhcp.ts and network-acl.ts
// read the cluster, call these, and write only what passed. What one document says about
// itself is the codec's to check (common/zk/network-schema.ts); messages name the wrong value.
import { PvcError } from '../errors.ts';
import { parseIpv4, parseIpv4Cidr, ipv4InSubnet, ipv4SubnetsOverlap, formatIpv4 } from '../net/ipv4.ts';
import { parseIpv6Cidr, ipv6SubnetsOverlap } from '../net/ipv6.ts';
import { describeIssues } from '../vm/describe-issues.ts';
import { bridgeIdOf, bridgeNameOf, type DhcpReservation, type NetworkSpec } from '../zk/schema.ts';

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
}

/** A codec's issues as one line; a custom rule's message already names the value, so it stands alone. */
export function issuesText(issues: readonly Issue[], input: unknown): string {
  return issues.map((issue) => (issue.code === 'custom' ? `${issue.path.map(String).join('.') || '(value)'}: ${issue.message}` : describeIssues([issue], input))).join('; ');
}

/** Parses `value` with `codec`, or refuses with `invalid <what>: <issues>`. */
export function parseOrRefuse<T>(codec: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: Issue[] } } }, value: unknown, what: string): T {
  const result = codec.safeParse(value);
  if (result.success) return result.data;
  throw new PvcError('bad-input', `invalid ${what}: ${issuesText(result.error.issues, value)}`);
}

function idWord(spec: NetworkSpec): string {
  return spec.type === 'managed' ? 'vni' : 'vlan';
}

/**
 * Why `spec` cannot live beside `others` (every other network of the cluster), or null:
 * its bridge (vmbr<vni|vlan>) is taken, or a subnet overlaps another managed network's.
 */
export function networkConflict(spec: NetworkSpec, others: readonly NetworkSpec[]): string | null {
  for (const other of others) {
    if (other.name === spec.name) continue;
    if (bridgeIdOf(other) === bridgeIdOf(spec)) {
      if (other.type === spec.type) return `${idWord(spec)} ${bridgeIdOf(spec)} is already used by network ${other.name}`;
      return `bridge name ${bridgeNameOf(spec)} is already used by network ${other.name} (its ${idWord(other)} ${bridgeIdOf(other)}); ${idWord(spec)} ${bridgeIdOf(spec)} cannot be used`;
    }
  }
  if (spec.type !== 'managed') return null;
  for (const other of others) {
    if (other.name === spec.name || other.type !== 'managed') continue;
    if (spec.ipv4 && other.ipv4) {
      const a = parseIpv4Cidr(spec.ipv4.subnet);
      const b = parseIpv4Cidr(other.ipv4.subnet);
      if (a && b && ipv4SubnetsOverlap(a, b)) return `ipv4 subnet ${spec.ipv4.subnet} overlaps subnet ${other.ipv4.subnet} of network ${other.name}`;
    }
    if (spec.ipv6 && other.ipv6) {
      const a = parseIpv6Cidr(spec.ipv6.subnet);
      const b = parseIpv6Cidr(other.ipv6.subnet);
      if (a && b && ipv6SubnetsOverlap(a, b)) return `ipv6 subnet ${spec.ipv6.subnet} overlaps subnet ${other.ipv6.subnet} of network ${other.name}`;
    }
  }
  return null;
}

/**
 * Why `reservation` cannot be added to `spec` beside `existing` (the network's reservations), or
 * null. The MAC must be new, the address inside the subnet's usable addresses, not the gateway,
 * and held by no other reservation; the hostname, when given, unused by another.
 */
export function reservationProblem(spec: NetworkSpec, reservation: DhcpReservation, existing: readonly DhcpReservation[]): string | null {
  if (spec.type !== 'managed') return `network ${spec.name} is bridged: dhcp reservations need a managed network`;
  if (!spec.ipv4) return `network ${spec.name} has no ipv4 subnet: dhcp reservations need one`;
  const where = reservationAddressProblem(spec.ipv4.subnet, spec.ipv4.gateway, reservation.ipv4);
  if (where) return where;
  for (const other of existing) {
    if (other.mac === reservation.mac) return `mac ${reservation.mac} already has a reservation on network ${spec.name} (${other.ipv4}); remove it first`;
    if (other.ipv4 === reservation.ipv4) return `ip ${reservation.ipv4} is already reserved for mac ${other.mac} on network ${spec.name}`;
    if (reservation.hostname !== null && other.hostname === reservation.hostname) {
      return `hostname ${reservation.hostname} is already reserved for mac ${other.mac} on network ${spec.name}`;
    }
  }
  return null;
}

function reservationAddressProblem(subnetText: string, gatewayText: string, ipText: string): string | null {
  const subnet = parseIpv4Cidr(subnetText);
  const ip = parseIpv4(ipText);
  if (!subnet || ip === null) return `ip ${JSON.stringify(ipText)} is not an ipv4 address`;
  if (!ipv4InSubnet(ip, subnet)) return `ip ${ipText} is outside subnet ${subnetText}`;
  if (ip === subnet.network) return `ip ${ipText} is the network address of subnet ${subnetText}`;
  if (ip === subnet.broadcast) return `ip ${ipText} is the broadcast address of subnet ${subnetText}`;
  if (ipText === gatewayText) return `ip ${ipText} is the gateway of subnet ${subnetText}`;
  return null;
}

/**
 * Why a modified network no longer holds its reservations (a new subnet or gateway), or null:
 * a reservation outside the new subnet would be handed out on the wrong network.
 */
export function reservationsMisfit(spec: NetworkSpec, reservations: readonly DhcpReservation[]): string | null {
  if (reservations.length === 0) return null;
  if (spec.type !== 'managed' || !spec.ipv4) {
    return `network ${spec.name} has ${reservations.length} dhcp reservations, which need an ipv4 subnet; remove them first`;
  }
  for (const r of reservations) {
    const problem = reservationAddressProblem(spec.ipv4.subnet, spec.ipv4.gateway, r.ipv4);
    if (problem) return `the reservation of mac ${r.mac} no longer fits: ${problem}; remove it first (pvc network dhcp remove ${spec.name} ${r.mac})`;
  }
  return null;
}

/** The first usable address of an IPv4 subnet: the default gateway. */
export function firstIpv4Host(subnetText: string): string | null {
  const subnet = parseIpv4Cidr(subnetText);
  return subnet ? formatIpv4(subnet.network + 1) : null;
}
