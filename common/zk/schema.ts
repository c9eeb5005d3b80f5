// The ZooKeeper schema: every path pvc uses and the codec of every value stored there.
// No other file builds a path string (test/unit/tidy.test.ts enforces it); callers ask a
// ZkLayout for a typed reference and hand it to the store, which validates on read and write.
import { z } from 'zod';
import { PvcError } from '../errors.ts';
import { NAME_FRAGMENT, NAME_PATTERN, assertName } from '../names.ts';
import { DEFAULT_VM_SELECTOR, VM_SELECTORS, VmSpecDoc, VmStatusDoc, type VmSelector, type VmSpec, type VmStatus } from './vm-schema.ts';
import * as storage from './storage-schema.ts';
import * as network from './network-schema.ts';
import * as ha from './ha-schema.ts';
import { macKey } from '../net/mac.ts';
import { ipFamilyOf } from '../net/ip.ts';

export * from './vm-schema.ts';
export * from './storage-schema.ts';
export * from './network-schema.ts';
export * from './ha-schema.ts';

/** The version of the tree this code writes; see migrations.ts for how older trees move up. */
export const SCHEMA_VERSION = 4;

/** Every cluster lives under this parent, so that several clusters can share one ensemble. */
export const NAMESPACE_PATH = '/pvc';

export const DAEMON_STATES = ['init', 'run', 'shutdown', 'stop', 'dead', 'fenced'] as const;
export type DaemonState = (typeof DAEMON_STATES)[number];

export const COORDINATOR_STATES = ['primary', 'secondary', 'takeover', 'relinquish', 'client'] as const;
export type CoordinatorState = (typeof COORDINATOR_STATES)[number];

/**
 * PVC's node domain states: whether a node takes VMs (`ready`) or is being drained. What is
 * asked is NodeSpec.domainState (ready or flush); clients show flushed once the node's pvcd sees
 * no VM running on it. unflush and fence-flush are not used yet (fencing arrives with HA).
 */
export const NODE_DOMAIN_STATES = ['ready', 'flush', 'flushed', 'unflush', 'fence-flush'] as const;
export type NodeDomainState = (typeof NODE_DOMAIN_STATES)[number];

export const NODE_ROLES = ['coordinator', 'hypervisor'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

const nodeName = z.string().regex(NAME_PATTERN, 'not a valid node name');

/** A directory znode: it holds an empty object so that every znode has a validated value. */
export const DirDoc = z.strictObject({});
export type Dir = z.infer<typeof DirDoc>;

export const SchemaVersionDoc = z.strictObject({ version: z.number().int().min(1) });
export type SchemaVersion = z.infer<typeof SchemaVersionDoc>;

export const ClusterDoc = z.strictObject({
  name: nodeName,
  /**
   * The selector placement uses for a VM whose own selector is null. Optional because trees
   * made before schema version 2 lack it; migration 2 writes DEFAULT_VM_SELECTOR there.
   */
  defaultVmSelector: z.enum(VM_SELECTORS).optional(),
});
export type ClusterInfo = z.infer<typeof ClusterDoc>;

export function defaultVmSelectorOf(info: ClusterInfo): VmSelector {
  return info.defaultVmSelector ?? DEFAULT_VM_SELECTOR;
}

/** Desired facts about a node; written when its pvcd registers (and later by the CLI). */
/** What an administrator asks of a node's VMs: `flush` moves them away, `ready` takes them again. */
export const NODE_DESIRED_DOMAIN_STATES = ['ready', 'flush'] as const;
export type NodeDesiredDomainState = (typeof NODE_DESIRED_DOMAIN_STATES)[number];

export const NodeSpecDoc = z.strictObject({
  name: nodeName,
  role: z.enum(NODE_ROLES),
  /** Absent: ready. Written by `pvc node flush|ready`. */
  domainState: z.enum(NODE_DESIRED_DOMAIN_STATES).optional(),
});
export type NodeSpec = z.infer<typeof NodeSpecDoc>;

/** Observed facts; written only by the node's own pvcd, every keepaliveIntervalMs. */
export const NodeStatusDoc = z.strictObject({
  daemonState: z.enum(DAEMON_STATES),
  coordinatorState: z.enum(COORDINATOR_STATES),
  pvcdVersion: z.string().min(1),
  pid: z.number().int().positive(),
  keepaliveSeq: z.number().int().nonnegative(),
  /** Wall clock of the writer; shown to people, never compared with another machine's clock. */
  updatedAtMs: z.number().int().nonnegative(),
  host: z.strictObject({
    cores: z.number().int().positive(),
    loadAvg: z.tuple([z.number(), z.number(), z.number()]),
    memoryTotalMiB: z.number().int().nonnegative(),
    memoryUsedMiB: z.number().int().nonnegative(),
    memoryFreeMiB: z.number().int().nonnegative(),
    uptimeS: z.number().int().nonnegative(),
  }),
  /**
   * The node's hypervisor, when pvcd drives one (absent or null: this node runs no VMs).
   * Placement reads its size; other nodes' pvcd read `uri` to migrate VMs here.
   */
  hypervisor: z
    .strictObject({
      /** How other nodes' libvirtd reach this node's hypervisor (peer-to-peer migration). */
      uri: z.string().min(1),
      /** Where QEMU should send memory during a migration to this node; null: libvirt's choice. */
      migrateUri: z.string().min(1).nullable(),
      cpus: z.number().int().positive(),
      memoryMiB: z.number().int().positive(),
      /** Where this node writes its VMs' serial console logs (`<dir>/<vm>.log`). */
      consoleLogDir: z.string().min(1),
      /** VMs this node's pvcd last saw running here (a flushed node has none). */
      runningVms: z.number().int().nonnegative().optional(),
      /**
       * How this node's QEMU reaches Ceph for RBD disks, once its pvcd has set up the libvirt
       * secret (what `pvc vm dump` renders with); absent or null: not (yet) able to.
       */
      rbd: z
        .strictObject({
          monitors: z.array(z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65_535) })).min(1).max(16),
          user: z.string().min(1),
          secretUuid: z.string().min(1),
        })
        .nullable()
        .optional(),
    })
    .nullable()
    .optional(),
  /**
   * Ceph client addresses (`ip:port/nonce`) this node's VMs hold RBD volumes open with; the
   * fencer blocklists them besides the watchers it finds itself. Absent: none reported.
   */
  cephClientAddresses: z.array(z.string().min(1).max(128)).max(256).optional(),
  /**
   * The IP this node's Ceph clients (its QEMUs, its rbd commands) connect from: the address part
   * of their client addresses. Another node's pvcd reads it to tell whose an RBD lock or watcher
   * is (daemon/reconcile/rbd-access-plan.ts). Absent: not known (no Ceph here, or not found).
   */
  cephClientIp: z.string().refine((s) => ipFamilyOf(s) !== null, 'must be an ipv4 or canonical ipv6 address').optional(),
  /**
   * How long this node runs cut off from ZooKeeper before it destroys its own guests (its
   * effective `ha.selfFence`); null: it never does (self-fence off, `auto` with a BMC, or no
   * hypervisor). The fencer waits this, not its own setting, before a `recover` without a
   * confirmed power off. Absent (a pvcd from before the field): unknown, taken as null.
   */
  selfFenceBoundMs: z.number().int().positive().nullable().optional(),
  /**
   * The node's networking, when its pvcd manages networks: its VTEP (underlay) address, which
   * every node's FRR peers with (BGP EVPN). Absent or null: the node takes no part in EVPN.
   */
  network: z
    .strictObject({ vtepAddress: z.string().refine((s) => ipFamilyOf(s) !== null, 'must be an ipv4 or canonical ipv6 address') })
    .nullable()
    .optional(),
});
export type NodeStatus = z.infer<typeof NodeStatusDoc>;
export type NodeHypervisor = NonNullable<NodeStatus['hypervisor']>;

/** Ephemeral: exists while the node's pvcd holds a ZooKeeper session. */
export const AliveDoc = z.strictObject({ pid: z.number().int().positive(), sessionId: z.string().min(1) });
export type Alive = z.infer<typeof AliveDoc>;

/** Ephemeral-sequential: one per coordinator taking part in the election. */
export const CandidateDoc = z.strictObject({ node: nodeName });
export type Candidate = z.infer<typeof CandidateDoc>;

/** Ephemeral: held by the primary while (and only while) its primary runnables may run. */
export const PrimaryDoc = z.strictObject({ node: nodeName, sessionId: z.string().min(1) });
export type Primary = z.infer<typeof PrimaryDoc>;

/** A planned handover: `from` steps down; `to` (or, when null, the next in line) takes over. */
export const HandoverDoc = z.strictObject({ from: nodeName, to: nodeName.nullable() });
export type Handover = z.infer<typeof HandoverDoc>;

/** Written by the primary's placement for a VM it could not place; removed once placed. */
export const VmUnplacedDoc = z.strictObject({ reason: z.string().min(1).max(1_000) });
export type VmUnplaced = z.infer<typeof VmUnplacedDoc>;

export interface Codec<T> {
  parse(raw: unknown): T;
}

/** A typed reference to one znode: where it is and what it holds. */
export interface ZRef<T> {
  readonly path: string;
  readonly codec: Codec<T>;
}

function ref<T>(path: string, codec: Codec<T>): ZRef<T> {
  return { path, codec };
}

/**
 * An election child is named `<node>_<seq>`: ZooKeeper appends the 10-digit counter that orders
 * the candidates, and the node name in front lets one getChildren call show who they are.
 */
const CANDIDATE_NAME = new RegExp(`^(${NAME_FRAGMENT})_(\\d{10})$`);

/** Paths of one cluster. The only place where pvc's path strings are put together. */
export class ZkLayout {
  readonly root: string;

  constructor(readonly cluster: string) {
    assertName('cluster', cluster);
    this.root = `${NAMESPACE_PATH}/${cluster}`;
  }

  namespace(): ZRef<Dir> { return ref(NAMESPACE_PATH, DirDoc); }
  clusterRoot(): ZRef<Dir> { return ref(this.root, DirDoc); }
  schemaDir(): ZRef<Dir> { return ref(`${this.root}/schema`, DirDoc); }
  schemaVersion(): ZRef<SchemaVersion> { return ref(`${this.root}/schema/version`, SchemaVersionDoc); }
  clusterInfo(): ZRef<ClusterInfo> { return ref(`${this.root}/cluster`, ClusterDoc); }
  nodesDir(): ZRef<Dir> { return ref(`${this.root}/nodes`, DirDoc); }
  node(name: string): ZRef<NodeSpec> { return ref(`${this.root}/nodes/${assertName('node', name)}`, NodeSpecDoc); }
  nodeStatus(name: string): ZRef<NodeStatus> { return ref(`${this.node(name).path}/status`, NodeStatusDoc); }
  nodeAlive(name: string): ZRef<Alive> { return ref(`${this.node(name).path}/alive`, AliveDoc); }
  coordinatorDir(): ZRef<Dir> { return ref(`${this.root}/coordinator`, DirDoc); }
  electionDir(): ZRef<Dir> { return ref(`${this.root}/coordinator/election`, DirDoc); }
  /** The prefix handed to a sequential create; ZooKeeper completes the name. */
  newCandidate(node: string): ZRef<Candidate> { return ref(`${this.electionDir().path}/${assertName('node', node)}_`, CandidateDoc); }
  candidate(childName: string): ZRef<Candidate> {
    parseCandidateName(childName);
    return ref(`${this.electionDir().path}/${childName}`, CandidateDoc);
  }
  primary(): ZRef<Primary> { return ref(`${this.root}/coordinator/primary`, PrimaryDoc); }
  handover(): ZRef<Handover> { return ref(`${this.root}/coordinator/handover`, HandoverDoc); }
  vmsDir(): ZRef<Dir> { return ref(`${this.root}/vms`, DirDoc); }
  /** VM names are held to the node-name rule: they become znode names, domain names and file names. */
  vm(name: string): ZRef<VmSpec> { return ref(`${this.root}/vms/${assertName('vm', name)}`, VmSpecDoc); }
  vmStatus(name: string): ZRef<VmStatus> { return ref(`${this.vm(name).path}/status`, VmStatusDoc); }
  /** Why placement could not give the VM a node; present only while that is so. */
  vmUnplaced(name: string): ZRef<VmUnplaced> { return ref(`${this.vm(name).path}/unplaced`, VmUnplacedDoc); }

  storageDir(): ZRef<Dir> { return ref(`${this.root}/storage`, DirDoc); }
  storageSettings(): ZRef<storage.StorageSettings> { return ref(`${this.root}/storage/settings`, storage.StorageSettingsDoc); }
  storageStatus(): ZRef<storage.StorageStatus> { return ref(`${this.root}/storage/status`, storage.StorageStatusDoc); }
  poolsDir(): ZRef<Dir> { return ref(`${this.root}/storage/pools`, DirDoc); }
  pool(name: string): ZRef<storage.PoolSpec> { return ref(`${this.poolsDir().path}/${storage.assertStorageName('pool', name)}`, storage.PoolSpecDoc); }
  poolStatus(name: string): ZRef<storage.PoolStatus> { return ref(`${this.pool(name).path}/status`, storage.PoolStatusDoc); }
  volumesDir(pool: string): ZRef<Dir> { return ref(`${this.pool(pool).path}/volumes`, DirDoc); }
  volume(pool: string, name: string): ZRef<storage.VolumeSpec> { return ref(`${this.volumesDir(pool).path}/${storage.assertStorageName('volume', name)}`, storage.VolumeSpecDoc); }
  volumeStatus(pool: string, name: string): ZRef<storage.VolumeStatus> { return ref(`${this.volume(pool, name).path}/status`, storage.VolumeStatusDoc); }
  snapshotsDir(pool: string, volume: string): ZRef<Dir> { return ref(`${this.volume(pool, volume).path}/snapshots`, DirDoc); }
  snapshot(pool: string, volume: string, name: string): ZRef<storage.SnapshotSpec> {
    return ref(`${this.snapshotsDir(pool, volume).path}/${storage.assertStorageName('snapshot', name)}`, storage.SnapshotSpecDoc);
  }
  snapshotStatus(pool: string, volume: string, name: string): ZRef<storage.SnapshotStatus> {
    return ref(`${this.snapshot(pool, volume, name).path}/status`, storage.SnapshotStatusDoc);
  }
  osdsDir(): ZRef<Dir> { return ref(`${this.root}/storage/osds`, DirDoc); }
  osd(id: number): ZRef<storage.OsdStatus> { return ref(`${this.osdsDir().path}/${osdIdSegment(id)}`, storage.OsdStatusDoc); }
  reservationsDir(): ZRef<Dir> { return ref(`${this.root}/storage/reservations`, DirDoc); }
  /** The prefix handed to a sequential create: `<pool>@`, which ZooKeeper completes with its counter. */
  newReservation(pool: string): ZRef<storage.StorageReservation> { return ref(`${this.reservationsDir().path}/${storage.assertStorageName('pool', pool)}@`, storage.StorageReservationDoc); }
  reservation(childName: string): ZRef<storage.StorageReservation> {
    parseReservationName(childName);
    return ref(`${this.reservationsDir().path}/${childName}`, storage.StorageReservationDoc);
  }

  networksDir(): ZRef<Dir> { return ref(`${this.root}/networks`, DirDoc); }
  /** Networks are keyed by name: VM NICs name their network (VmNicDoc.network). */
  network(name: string): ZRef<network.NetworkSpec> { return ref(`${this.networksDir().path}/${assertName('network', name)}`, network.NetworkSpecDoc); }
  networkReservationsDir(name: string): ZRef<Dir> { return ref(`${this.network(name).path}/reservations`, DirDoc); }
  /** A reservation is named by its MAC's 12 hex digits (a colon is awkward in a path segment). */
  networkReservation(name: string, mac: string): ZRef<network.DhcpReservation> {
    return ref(`${this.networkReservationsDir(name).path}/${macKey(mac)}`, network.DhcpReservationDoc);
  }
  networkLeasesDir(name: string): ZRef<Dir> { return ref(`${this.network(name).path}/leases`, DirDoc); }
  networkLease(name: string, mac: string): ZRef<network.DhcpLease> { return ref(`${this.networkLeasesDir(name).path}/${macKey(mac)}`, network.DhcpLeaseDoc); }
  networkAclsDir(name: string): ZRef<Dir> { return ref(`${this.network(name).path}/acls`, DirDoc); }
  networkAcl(name: string, acl: string): ZRef<network.NetworkAcl> { return ref(`${this.networkAclsDir(name).path}/${assertName('acl', acl)}`, network.NetworkAclDoc); }
  /** The directories created with each network, in the same multi-op as its spec. */
  networkDirectories(name: string): ZRef<Dir>[] {
    return [this.networkReservationsDir(name), this.networkLeasesDir(name), this.networkAclsDir(name)];
  }
  clusterNetwork(): ZRef<network.ClusterNetwork> { return ref(`${this.root}/cluster-network`, network.ClusterNetworkDoc); }

  /** The node's BMC address and user, without the password (see ha-schema.ts BmcDoc). */
  nodeBmc(name: string): ZRef<ha.BmcPublic> { return ref(`${this.node(name).path}/bmc`, ha.BmcDoc); }
  /** The node's BMC password, under the daemon-only ACL when pvcd has a daemon identity. */
  nodeBmcSecret(name: string): ZRef<ha.BmcSecret> { return ref(`${this.node(name).path}/bmc-secret`, ha.BmcSecretDoc); }
  /** Present while the node is fenced: why, and each fence step's result. */
  nodeFence(name: string): ZRef<ha.Fence> { return ref(`${this.node(name).path}/fence`, ha.FenceDoc); }
  /** Created on first use (by the primary's fencing or a client), not by a migration. */
  haDir(): ZRef<Dir> { return ref(`${this.root}/ha`, DirDoc); }
  maintenance(): ZRef<ha.Maintenance> { return ref(`${this.root}/ha/maintenance`, ha.MaintenanceDoc); }
  faultsDir(): ZRef<Dir> { return ref(`${this.root}/ha/faults`, DirDoc); }
  fault(id: string): ZRef<ha.Fault> { return ref(`${this.faultsDir().path}/${assertName('fault', id)}`, ha.FaultDoc); }

  /** The storage directories migration 3 creates, parents first. */
  storageDirectories(): ZRef<Dir>[] {
    return [this.storageDir(), this.poolsDir(), this.osdsDir(), this.reservationsDir()];
  }

  /** The persistent directories a fresh cluster starts with, parents first. */
  baseDirectories(): ZRef<Dir>[] {
    return [this.clusterRoot(), this.schemaDir(), this.nodesDir(), this.coordinatorDir(), this.electionDir()];
  }
}

export interface CandidateName {
  childName: string;
  node: string;
  /** ZooKeeper's sequence number, which orders the candidates. */
  seq: number;
}

export function parseCandidateName(childName: string): CandidateName {
  const match = CANDIDATE_NAME.exec(childName);
  if (!match?.[1] || !match[3]) throw new Error(`not an election candidate name: ${JSON.stringify(childName)}`);
  return { childName, node: match[1], seq: Number(match[3]) };
}

/** A reservation child is `<pool>@<seq>`, so that a writer lists the pool's reservations by name. */
const RESERVATION_NAME = /^([A-Za-z0-9][A-Za-z0-9._-]{0,254})@(\d{10})$/;

export function parseReservationName(childName: string): { pool: string; seq: number } {
  const match = RESERVATION_NAME.exec(childName);
  if (!match?.[1] || !match[2]) throw new Error(`not a storage reservation name: ${JSON.stringify(childName)}`);
  return { pool: match[1], seq: Number(match[2]) };
}

/** OSD ids are Ceph's small integers; the znode is named by the decimal id. */
function osdIdSegment(id: number): string {
  if (!Number.isSafeInteger(id) || id < 0) throw new PvcError('bad-input', `invalid osd id ${JSON.stringify(id)}: use a whole number >= 0`);
  return String(id);
}

export function lastPathSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export type ZnodeKind = 'persistent' | 'ephemeral' | 'ephemeral-sequential';

/** What docs/zk-schema.md must list; test/unit/zk-schema-doc.test.ts keeps the two in step. */
export const SCHEMA_DESCRIPTION: ReadonlyArray<{ path: string; kind: ZnodeKind; writer: string; holds: string }> = [
  { path: '/pvc', kind: 'persistent', writer: 'first pvcd', holds: '{} (world may only create children)' },
  { path: '/pvc/<cluster>', kind: 'persistent', writer: 'first pvcd', holds: '{}' },
  { path: '/pvc/<cluster>/schema', kind: 'persistent', writer: 'first pvcd', holds: '{}' },
  { path: '/pvc/<cluster>/schema/version', kind: 'persistent', writer: 'pvcd migrations', holds: 'SchemaVersion' },
  { path: '/pvc/<cluster>/cluster', kind: 'persistent', writer: 'first pvcd', holds: 'ClusterInfo' },
  { path: '/pvc/<cluster>/nodes', kind: 'persistent', writer: 'first pvcd', holds: '{}' },
  { path: '/pvc/<cluster>/nodes/<node>', kind: 'persistent', writer: 'pvcd of <node> on registration', holds: 'NodeSpec' },
  { path: '/pvc/<cluster>/nodes/<node>/status', kind: 'persistent', writer: 'pvcd of <node> only', holds: 'NodeStatus' },
  { path: '/pvc/<cluster>/nodes/<node>/alive', kind: 'ephemeral', writer: 'pvcd of <node>', holds: 'Alive' },
  { path: '/pvc/<cluster>/coordinator', kind: 'persistent', writer: 'first pvcd', holds: '{}' },
  { path: '/pvc/<cluster>/coordinator/election', kind: 'persistent', writer: 'first pvcd', holds: '{}' },
  { path: '/pvc/<cluster>/coordinator/election/<node>_<seq>', kind: 'ephemeral-sequential', writer: 'each coordinator pvcd', holds: 'Candidate' },
  { path: '/pvc/<cluster>/coordinator/primary', kind: 'ephemeral', writer: 'the primary pvcd', holds: 'Primary' },
  { path: '/pvc/<cluster>/coordinator/handover', kind: 'persistent', writer: 'pvc node primary|secondary; removed by the next primary', holds: 'Handover' },
  { path: '/pvc/<cluster>/vms', kind: 'persistent', writer: 'pvcd migrations (migration 2)', holds: '{}' },
  { path: '/pvc/<cluster>/vms/<vm>', kind: 'persistent', writer: 'clients (define, modify, state changes); the primary (placement)', holds: 'VmSpec' },
  { path: '/pvc/<cluster>/vms/<vm>/status', kind: 'persistent', writer: 'pvcd of the node running <vm>; the primary (fencing) in the name of a node it fenced', holds: 'VmStatus' },
  { path: '/pvc/<cluster>/vms/<vm>/unplaced', kind: 'persistent', writer: 'the primary (placement); removed once placed', holds: 'VmUnplaced' },
  { path: '/pvc/<cluster>/storage', kind: 'persistent', writer: 'pvcd migrations (migration 3)', holds: '{}' },
  { path: '/pvc/<cluster>/storage/settings', kind: 'persistent', writer: 'pvcd migrations (migration 3); pvc storage settings', holds: 'StorageSettings' },
  { path: '/pvc/<cluster>/storage/status', kind: 'persistent', writer: 'the primary (storage-status)', holds: 'StorageStatus' },
  { path: '/pvc/<cluster>/storage/pools', kind: 'persistent', writer: 'pvcd migrations (migration 3)', holds: '{}' },
  { path: '/pvc/<cluster>/storage/pools/<pool>', kind: 'persistent', writer: 'clients (pool add, set, remove) after ceph did it', holds: 'PoolSpec' },
  { path: '/pvc/<cluster>/storage/pools/<pool>/status', kind: 'persistent', writer: 'the primary (storage-status)', holds: 'PoolStatus' },
  { path: '/pvc/<cluster>/storage/pools/<pool>/volumes', kind: 'persistent', writer: 'clients, with the pool', holds: '{}' },
  { path: '/pvc/<cluster>/storage/pools/<pool>/volumes/<volume>', kind: 'persistent', writer: 'clients (volume add, clone, upload, resize, rename, remove) after ceph did it; remove and rename mark it leaving first; vm define/modify rewrite it unchanged with the vm spec', holds: 'VolumeSpec' },
  { path: '/pvc/<cluster>/storage/pools/<pool>/volumes/<volume>/status', kind: 'persistent', writer: 'the primary (storage-status)', holds: 'VolumeStatus' },
  { path: '/pvc/<cluster>/storage/pools/<pool>/volumes/<volume>/snapshots', kind: 'persistent', writer: 'clients, with the volume', holds: '{}' },
  { path: '/pvc/<cluster>/storage/pools/<pool>/volumes/<volume>/snapshots/<snapshot>', kind: 'persistent', writer: 'clients (snapshot add, protect, unprotect, remove; clone protects) after ceph did it', holds: 'SnapshotSpec' },
  { path: '/pvc/<cluster>/storage/pools/<pool>/volumes/<volume>/snapshots/<snapshot>/status', kind: 'persistent', writer: 'the primary (storage-status)', holds: 'SnapshotStatus' },
  { path: '/pvc/<cluster>/storage/osds', kind: 'persistent', writer: 'pvcd migrations (migration 3)', holds: '{}' },
  { path: '/pvc/<cluster>/storage/osds/<osd>', kind: 'persistent', writer: 'the primary (storage-status)', holds: 'OsdStatus' },
  { path: '/pvc/<cluster>/storage/reservations', kind: 'persistent', writer: 'pvcd migrations (migration 3)', holds: '{}' },
  { path: '/pvc/<cluster>/storage/reservations/<pool>@<seq>', kind: 'ephemeral-sequential', writer: 'clients, for the length of a write', holds: 'StorageReservation' },
  { path: '/pvc/<cluster>/networks', kind: 'persistent', writer: 'pvcd migrations (migration 4); set (compare-and-set) by every network add, modify, remove', holds: '{}' },
  { path: '/pvc/<cluster>/networks/<network>', kind: 'persistent', writer: 'clients (network add, modify, remove)', holds: 'NetworkSpec' },
  { path: '/pvc/<cluster>/networks/<network>/reservations', kind: 'persistent', writer: 'clients, with the network; set (compare-and-set) by every reservation add', holds: '{}' },
  { path: '/pvc/<cluster>/networks/<network>/reservations/<mac>', kind: 'persistent', writer: 'clients (network dhcp add, remove)', holds: 'DhcpReservation' },
  { path: '/pvc/<cluster>/networks/<network>/leases', kind: 'persistent', writer: 'clients, with the network', holds: '{}' },
  { path: '/pvc/<cluster>/networks/<network>/leases/<mac>', kind: 'persistent', writer: 'the primary (its dnsmasq) only', holds: 'DhcpLease' },
  { path: '/pvc/<cluster>/networks/<network>/acls', kind: 'persistent', writer: 'clients, with the network', holds: '{}' },
  { path: '/pvc/<cluster>/networks/<network>/acls/<acl>', kind: 'persistent', writer: 'clients (network acl add, remove)', holds: 'NetworkAcl' },
  { path: '/pvc/<cluster>/cluster-network', kind: 'persistent', writer: 'pvcd migrations (migration 4); pvc cluster network set', holds: 'ClusterNetwork' },
  { path: '/pvc/<cluster>/nodes/<node>/bmc', kind: 'persistent', writer: 'pvcd of <node> on start, from its config (host, port, user; no password)', holds: 'Bmc' },
  { path: '/pvc/<cluster>/nodes/<node>/bmc-secret', kind: 'persistent', writer: 'pvcd of <node> on start, from its config (secret; daemon-only ACL when pvcd has a daemon identity)', holds: 'BmcSecret' },
  { path: '/pvc/<cluster>/nodes/<node>/fence', kind: 'persistent', writer: 'the primary (fencing), or <node> itself on a self-fence; removed by pvc node ready', holds: 'Fence' },
  { path: '/pvc/<cluster>/ha', kind: 'persistent', writer: 'the primary (fencing) or a client, on first use', holds: '{}' },
  { path: '/pvc/<cluster>/ha/maintenance', kind: 'persistent', writer: 'pvc cluster maintenance on|off', holds: 'Maintenance' },
  { path: '/pvc/<cluster>/ha/faults', kind: 'persistent', writer: 'the primary (fencing) or a client, on first use', holds: '{}' },
  { path: '/pvc/<cluster>/ha/faults/<fault>', kind: 'persistent', writer: 'the primary (fencing), a self-fenced node; acknowledged by pvc cluster fault ack', holds: 'Fault' },
];
