// Whether a node may open a VM's RBD volumes now: the pure half of the check pvcd makes before
// it starts a VM. Two QEMUs writing one disk destroy it, and a lock left by a dead node blocks a
// restart forever (PVC's old trouble), so the rule is:
//   - clients whose address is blocklisted are harmless: their locks are removed, their watches ignored;
//   - any other client holds the volume; it belongs to the node that last ran the VM (its status);
//   - a client no node accounts for (the VM never ran) means refuse, with the reason;
//   - a holder on another live node means wait (that node has said the VM stopped, and a QEMU that
//     was killed keeps its watch up to Ceph's 30 s watch timeout), then refuse after a bound;
//   - a holder on a dead or fenced node, or a stale client of this very node (the VM does not run
//     here, so no QEMU of ours has it open), is blocklisted first, and only then are its locks removed.
import type { RbdLock, RbdWatcher } from '../drivers/ceph/port.ts';

export interface VolumeHolders {
  pool: string;
  image: string;
  watchers: readonly RbdWatcher[];
  locks: readonly RbdLock[];
}

export interface RbdAccessInput {
  me: string;
  vm: string;
  volumes: readonly VolumeHolders[];
  /** Addresses Ceph already refuses. */
  blocklisted: ReadonlySet<string>;
  /** The node the VM's status names (where it last ran); null when it never ran. */
  lastNode: string | null;
  /** Whether that node holds a ZooKeeper session now. */
  lastNodeAlive: boolean;
  /** Whether that node has been fenced (powered off or cut from storage) by the primary. */
  lastNodeFenced: boolean;
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
  | { kind: 'open'; blocklist: string[]; removeLocks: LockRemoval[] }
  | { kind: 'wait'; reason: string }
  | { kind: 'refuse'; reason: string };

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
  if (live.size === 0) return { kind: 'open', blocklist: [], removeLocks: allLocks };

  const holders = [...live].map(([address, volumes]) => `${volumes.join(', ')} by client ${address}`).join('; ');
  const { lastNode, me } = input;
  if (lastNode === null) {
    return { kind: 'refuse', reason: `rbd volume(s) of vm ${input.vm} are held by a client no node of the cluster accounts for: ${holders}` };
  }
  const stale = lastNode === me || !input.lastNodeAlive || input.lastNodeFenced;
  if (!stale) {
    const reason = `rbd volume(s) of vm ${input.vm} are held on live node ${lastNode}: ${holders}`;
    return input.waitedMs < input.waitLimitMs ? { kind: 'wait', reason } : { kind: 'refuse', reason };
  }
  return { kind: 'open', blocklist: [...live.keys()], removeLocks: allLocks };
}
