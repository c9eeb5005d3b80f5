// Whether a node may open a VM's RBD volumes now: the pure half of the check pvcd makes before
// it starts a VM. Two QEMUs writing one disk destroy it, and a lock left by a dead node blocks a
// restart forever (PVC's old trouble), so the rule is:
//   - clients whose address is blocklisted are harmless: their locks are removed, their watches ignored;
//   - every other client (address) is put to a node: the one node whose published Ceph client IP
//     (NodeStatus.cephClientIp) is the address's IP; when the address cannot tell (several nodes
//     share the IP, none published one: see ownerOf), the node that last ran the VM;
//   - a client of an IP no node published, while nodes do publish theirs (an admin's `rbd export`
//     elsewhere, another cluster), means refuse, naming the address; so does a client when the
//     VM never ran and no address says whose it is;
//   - a holder on another live node means wait (that node has said the VM stopped, and a QEMU that
//     was killed keeps its watch up to Ceph's 30 s watch timeout), then refuse after a bound;
//   - a holder on a dead or fenced node, or a stale client of this very node, is blocklisted
//     first, and only then are the locks removed. A client of this node is stale when the VM last
//     ran here: the check runs only before a start, so the VM does not run here now and no QEMU
//     of ours has it open. While the VM last ran elsewhere (or never ran), a client of this node
//     is some other program here (an upload, an export), waited for like a live node's.
// One holder that must be waited for or refused keeps every volume shut: nothing is blocklisted
// until all holders are stale.
import { cephClientIpOf } from '../drivers/ceph/client-address.ts';
import type { RbdLock, RbdWatcher } from '../drivers/ceph/port.ts';

export interface VolumeHolders {
  pool: string;
  image: string;
  watchers: readonly RbdWatcher[];
  locks: readonly RbdLock[];
}

/** One registered node as the check sees it. */
export interface ClusterNode {
  name: string;
  /** The IP its Ceph clients use, as it published it; null: it published none. */
  cephClientIp: string | null;
  /** It holds a ZooKeeper session now. */
  alive: boolean;
  /** It has been fenced (powered off or cut from storage): daemon state `fenced` or a fence record. */
  fenced: boolean;
}

export interface RbdAccessInput {
  me: string;
  vm: string;
  volumes: readonly VolumeHolders[];
  /** Addresses Ceph already refuses. */
  blocklisted: ReadonlySet<string>;
  /** The node the VM's status names (where it last ran); null when it never ran. */
  lastNode: string | null;
  /** Every registered node; one missing (removed) counts as dead and not fenced. */
  nodes: readonly ClusterNode[];
  /** How long this node has already waited for a live holder to let go. */
  waitedMs: number;
  /** After this long, a live holder makes the start fail instead of wait. */
  waitLimitMs: number;
}

export interface LockRemoval {
  pool: string;
  image: string;
  lock: RbdLock;
}

export type RbdAccessDecision =
  | { kind: 'open'; blocklist: { address: string; node: string }[]; removeLocks: LockRemoval[] }
  | { kind: 'wait'; reason: string }
  | { kind: 'refuse'; reason: string };

/** Whose a client is: a node (found by its IP or taken to be the last one), or nobody's. */
type Owner = { kind: 'node'; node: string } | { kind: 'foreign'; ip: string } | { kind: 'unaccounted' };

export function planRbdAccess(input: RbdAccessInput): RbdAccessDecision {
  const live = new Map<string, string[]>(); // address -> volumes it holds
  for (const volume of input.volumes) {
    const addresses = [...volume.watchers.map((w) => w.address), ...volume.locks.map((l) => l.address)];
    for (const address of addresses) {
      if (input.blocklisted.has(address)) continue;
      const held = live.get(address) ?? [];
      const name = `${volume.pool}/${volume.image}`;
      if (!held.includes(name)) held.push(name);
      live.set(address, held);
    }
  }
  const allLocks = input.volumes.flatMap((volume) => volume.locks.map((lock) => ({ pool: volume.pool, image: volume.image, lock })));

  const refusals: string[] = [];
  const unaccounted: string[] = [];
  const onLiveNodes = new Map<string, string[]>(); // node -> "volumes by client address"
  const stale: { address: string; node: string }[] = [];
  for (const [address, volumes] of live) {
    const held = `${volumes.join(', ')} by client ${address}`;
    const owner = ownerOf(address, input);
    switch (owner.kind) {
      case 'foreign':
        refusals.push(`rbd volume(s) ${volumes.join(', ')} of vm ${input.vm} are held by client ${address}, which is no node of the cluster (no node published ${owner.ip})`);
        break;
      case 'unaccounted':
        unaccounted.push(held);
        break;
      case 'node':
        if (isStaleOn(owner.node, input)) stale.push({ address, node: owner.node });
        else onLiveNodes.set(owner.node, [...(onLiveNodes.get(owner.node) ?? []), held]);
        break;
      default: {
        const unknown: never = owner;
        throw new Error(`unhandled rbd holder owner ${JSON.stringify(unknown)}`);
      }
    }
  }
  if (unaccounted.length > 0) refusals.push(`rbd volume(s) of vm ${input.vm} are held by a client no node of the cluster accounts for: ${unaccounted.join('; ')}`);
  const waits = [...onLiveNodes].map(([node, held]) => `on live node ${node}: ${held.join('; ')}`);
  const waitReason = waits.length > 0 ? `rbd volume(s) of vm ${input.vm} are held ${waits.join('; and ')}` : null;
  // A client that is nobody's does not go away by waiting: refused at once (live holders named too).
  if (refusals.length > 0) return { kind: 'refuse', reason: [...refusals, ...(waitReason ? [waitReason] : [])].join('; ') };
  if (waitReason !== null) return input.waitedMs < input.waitLimitMs ? { kind: 'wait', reason: waitReason } : { kind: 'refuse', reason: waitReason };
  // Every live holder is stale: once blocklisted, every lock left is one of a refused client.
  return { kind: 'open', blocklist: stale, removeLocks: allLocks };
}

function ownerOf(address: string, input: RbdAccessInput): Owner {
  const ip = cephClientIpOf(address);
  const publishers = input.nodes.filter((n) => n.cephClientIp !== null);
  if (ip !== null && publishers.length > 0) {
    const claimants = publishers.filter((n) => n.cephClientIp === ip);
    if (claimants.length === 1 && claimants[0]) return { kind: 'node', node: claimants[0].name };
    // An IP no node published is nobody's, unless the last node published none: it may be an
    // older pvcd, or one that could not find its IP, whose client this is (falls through).
    const last = input.lastNode === null ? undefined : input.nodes.find((n) => n.name === input.lastNode);
    if (claimants.length === 0 && (input.lastNode === null || (last?.cephClientIp ?? null) !== null)) return { kind: 'foreign', ip };
  }
  // The address cannot tell: several nodes share the IP (a single-host lab, every node on
  // 127.0.0.1, as in this project's tests), no node published one, or the address does not
  // parse. The holder is taken to be the node that last ran the VM, as before IPs were published.
  return input.lastNode === null ? { kind: 'unaccounted' } : { kind: 'node', node: input.lastNode };
}

/** A holder on this node where the VM last ran (it does not run here now: see the header), a dead or a fenced one. */
function isStaleOn(node: string, input: RbdAccessInput): boolean {
  if (node === input.me) return input.lastNode === input.me;
  const facts = input.nodes.find((n) => n.name === node);
  return facts === undefined || !facts.alive || facts.fenced;
}
