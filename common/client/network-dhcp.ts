// `network dhcp add|remove|list`: DHCP reservations (MAC -> fixed IPv4 address and host name)
// written by clients, and the leases the primary writes back. A reservation is created only if
// absent (its znode is named by the MAC), in a multi-op that also sets the reservations folder
// with the version read before the reservations were, and checks the network's version: two
// clients reserving the same address at once cannot both succeed, and a network changed or
// removed meanwhile makes the add judge again.
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import { MAC_RULE, normalizeMac } from '../net/mac.ts';
import { parseIpv4 } from '../net/ipv4.ts';
import { DhcpReservationDoc, type DhcpReservation } from '../zk/schema.ts';
import { isZkError } from '../zk/store.ts';
import { NETWORK_MAX_RESERVATIONS, mustReadNetwork, readLeases, readReservations, type NetworkTarget } from './network-read.ts';
import { parseOrRefuse, reservationProblem } from './network-validate.ts';

/** Reads and writes retried when another client changed the reservations in between. */
export const RESERVATION_WRITE_MAX_ATTEMPTS = 16;

export interface ReservationDraft {
  mac: string;
  ipv4: string;
  hostname?: string | null;
}

/** A MAC as a person types it (any case, ':' or '-'), in its stored form; refused naming it. */
export function parseMac(text: string): string {
  const mac = normalizeMac(text);
  if (!mac) throw new PvcError('bad-input', `invalid mac ${JSON.stringify(text)}: ${MAC_RULE}`);
  return mac;
}

export function prepareReservation(draft: ReservationDraft): DhcpReservation {
  const mac = parseMac(draft.mac);
  return parseOrRefuse(DhcpReservationDoc, { mac, ipv4: draft.ipv4, hostname: draft.hostname ?? null }, `reservation for mac ${mac}`);
}

export async function addReservation(target: NetworkTarget, network: string, draft: ReservationDraft): Promise<DhcpReservation> {
  const { store, layout } = target;
  assertName('network', network);
  const reservation = prepareReservation(draft);
  for (let attempt = 1; attempt <= RESERVATION_WRITE_MAX_ATTEMPTS; attempt += 1) {
    const spec = await mustReadNetwork(target, network);
    const dir = await store.stat(layout.networkReservationsDir(network));
    if (!dir) continue; // removed with its network since the read: judged again (and not found)
    const existing = (await readReservations(target, network)).map((r) => r.value);
    const problem = reservationProblem(spec.value, reservation, existing);
    if (problem) throw new PvcError('refused', problem);
    if (existing.length >= NETWORK_MAX_RESERVATIONS) throw new PvcError('refused', `network ${network} has ${existing.length} reservations, the most pvc supports`);
    const tx = store
      .transaction()
      .set(layout.networkReservationsDir(network), {}, dir.version)
      .check(layout.network(network), spec.version)
      .create(layout.networkReservation(network, reservation.mac), reservation);
    try {
      await tx.commit();
      return reservation;
    } catch (error) {
      if (!isZkError(error, 'BAD_VERSION') && !isZkError(error, 'NO_NODE') && !isZkError(error, 'NODE_EXISTS')) throw error;
    }
  }
  throw new PvcError('conflict', `gave up reserving ${reservation.ipv4} on network ${network}: its reservations changed ${RESERVATION_WRITE_MAX_ATTEMPTS} times meanwhile`);
}

export async function removeReservation(target: NetworkTarget, network: string, macText: string): Promise<DhcpReservation> {
  const { store, layout } = target;
  assertName('network', network);
  const mac = parseMac(macText);
  await mustReadNetwork(target, network);
  const ref = layout.networkReservation(network, mac);
  const found = await store.get(ref);
  if (!found) throw new PvcError('not-found', `network ${network} has no dhcp reservation for mac ${mac}`);
  try {
    await store.remove(ref, found.version);
  } catch (error) {
    if (isZkError(error, 'NO_NODE')) throw new PvcError('not-found', `network ${network} has no dhcp reservation for mac ${mac}`);
    // Changed since the read (a remove and re-add by another client): still this MAC's; remove it.
    if (isZkError(error, 'BAD_VERSION')) await store.removeIfPresent(ref);
    else throw error;
  }
  return found.value;
}

export const DHCP_ENTRY_KINDS = ['reservation', 'lease'] as const;
export type DhcpEntryKind = (typeof DHCP_ENTRY_KINDS)[number];

export interface DhcpEntryView {
  kind: DhcpEntryKind;
  mac: string;
  ipv4: string;
  hostname: string | null;
  /** Leases only: when it ends (Unix seconds; 0: never). null for reservations. */
  expiresAtS: number | null;
}

/** Reservations and leases of one network, ordered by address (then reservations first). */
export async function listDhcp(target: NetworkTarget, network: string, kind?: DhcpEntryKind): Promise<DhcpEntryView[]> {
  await mustReadNetwork(target, network);
  const [reservations, leases] = await Promise.all([
    kind === 'lease' ? [] : readReservations(target, network),
    kind === 'reservation' ? [] : readLeases(target, network),
  ]);
  const entries: DhcpEntryView[] = [
    ...reservations.map(({ value: r }): DhcpEntryView => ({ kind: 'reservation', mac: r.mac, ipv4: r.ipv4, hostname: r.hostname, expiresAtS: null })),
    ...leases.map((l): DhcpEntryView => ({ kind: 'lease', mac: l.mac, ipv4: l.ipv4, hostname: l.hostname, expiresAtS: l.expiresAtS })),
  ];
  return entries.sort((a, b) => (parseIpv4(a.ipv4) ?? 0) - (parseIpv4(b.ipv4) ?? 0) || kindRank(a.kind) - kindRank(b.kind) || a.mac.localeCompare(b.mac));
}

function kindRank(kind: DhcpEntryKind): number {
  return DHCP_ENTRY_KINDS.indexOf(kind);
}
