// The codecs of the VM znodes: the spec (desired state, written by clients and by the primary's
// placement) and the status (observed, written only by the node that runs the VM). Part of the
// schema module: schema.ts builds the paths and re-exports these. Kept apart only for size.
//
// Every string that may reach libvirt's domain XML is refused when it holds a control character:
// XML 1.0 cannot carry most of them even escaped, so they would make the rendered XML invalid.
import { z } from 'zod';
import { NAME_PATTERN, NAME_RULE } from '../names.ts';

/** PVC's VM states, used for both the desired state (spec) and the observed one (status). */
export const VM_STATES = ['start', 'stop', 'shutdown', 'restart', 'disable', 'fail', 'migrate', 'unmigrate', 'provision'] as const;
export type VmState = (typeof VM_STATES)[number];

/** PVC's node selectors; see common/vm/placement.ts for what each prefers. */
export const VM_SELECTORS = ['mem', 'memprov', 'vcpus', 'load', 'vms'] as const;
export type VmSelector = (typeof VM_SELECTORS)[number];
/** PVC's default: the node with the most free memory. */
export const DEFAULT_VM_SELECTOR: VmSelector = 'mem';

export const MIGRATION_METHODS = ['live', 'shutdown', 'none'] as const;
export type MigrationMethod = (typeof MIGRATION_METHODS)[number];

/** QEMU's `pc` machine takes at most 255 vCPUs. */
export const VM_MAX_VCPUS = 255;
/** Below this no Linux guest boots; refusing it also catches GiB typed where MiB is meant. */
export const VM_MIN_MEMORY_MIB = 32;
/** 4 TiB: far above any node this cluster is built for. */
export const VM_MAX_MEMORY_MIB = 4 * 1024 * 1024;
/** One disk per letter of `vd[a-z]` / `sd[a-z]`. */
export const VM_MAX_DISKS = 26;
export const VM_MAX_NICS = 16;
export const VM_MAX_TAGS = 32;
export const VM_TAG_MAX_CHARS = 64;
/** More than the nodes a cluster supports (common/client/read.ts NODES_MAX). */
export const VM_MAX_NODE_LIMIT = 1_000;
/** QEMU's own default limit for the pause at the end of a live migration. */
export const DEFAULT_MAX_DOWNTIME_MS = 300;
export const MAX_DOWNTIME_LIMIT_MS = 60_000;
/** x86 Linux's COMMAND_LINE_SIZE. */
export const KERNEL_CMDLINE_MAX_CHARS = 2_048;
/** Linux's PATH_MAX. */
export const PATH_MAX_CHARS = 4_096;
/** Raw domain XML must leave room in ZooKeeper's 1 MiB znode for the rest of the spec. */
export const RAW_XML_MAX_BYTES = 256 * 1024;
export const FAILURE_REASON_MAX_CHARS = 4_096;

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const CEPH_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Lowercase, colon-separated; the first octet's low bit clear (unicast). */
const MAC = /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/;
const TAG = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,${VM_TAG_MAX_CHARS - 1}}$`);
const DISK_TARGET = /^(vd|sd)[a-z]$/;

const name = z.string().regex(NAME_PATTERN, NAME_RULE);

function xmlText(maxChars: number) {
  return z.string().min(1, 'must not be empty').max(maxChars, `must be at most ${maxChars} characters`).refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');
}

const absolutePath = xmlText(PATH_MAX_CHARS).refine((s) => s.startsWith('/'), 'must be an absolute path');

function uniqueList<T extends z.ZodType<string>>(item: T, max: number, what: string) {
  return z
    .array(item)
    .max(max, `at most ${max} ${what}`)
    .refine((list) => new Set(list).size === list.length, `must not list the same ${what.replace(/s$/, '')} twice`);
}

export const VmDiskSourceDoc = z.discriminatedUnion('type', [
  /** A Ceph RBD image `pool/image`; the node supplies monitors and the cephx secret. */
  z.strictObject({ type: z.literal('rbd'), pool: z.string().regex(CEPH_NAME, 'not a valid ceph pool name'), image: z.string().regex(CEPH_NAME, 'not a valid rbd image name') }),
  /** A raw image file that exists at the same path on every node the VM may run on. */
  z.strictObject({ type: z.literal('file'), path: absolutePath }),
]);
export type VmDiskSource = z.infer<typeof VmDiskSourceDoc>;

export const VmDiskDoc = z.strictObject({
  /** The guest device name; vd* is virtio, sd* is SCSI. */
  target: z.string().regex(DISK_TARGET, 'must be vd[a-z] or sd[a-z]'),
  source: VmDiskSourceDoc,
});
export type VmDisk = z.infer<typeof VmDiskDoc>;

export const VmNicDoc = z.strictObject({
  /** A pvc network's name; the node maps it to its bridge. */
  network: name,
  mac: z.string().regex(MAC, 'must be a unicast mac address in lowercase, such as 52:54:00:12:34:56'),
});
export type VmNic = z.infer<typeof VmNicDoc>;

export const VmBootDoc = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('disk') }),
  z.strictObject({ kind: z.literal('network') }),
  /** Direct kernel boot: files on the node, as the diskless test guest uses. */
  z.strictObject({ kind: z.literal('kernel'), kernel: absolutePath, initrd: absolutePath.nullable(), cmdline: z.string().max(KERNEL_CMDLINE_MAX_CHARS).refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters') }),
]);
export type VmBoot = z.infer<typeof VmBootDoc>;

export const VmSerialDoc = z.strictObject({
  /** Log the serial console to a file (under the node's console log folder) that `pvc vm log` reads. */
  log: z.boolean(),
});
export type VmSerial = z.infer<typeof VmSerialDoc>;

export const VmPlacementDoc = z.strictObject({
  /** Nodes the VM may run on; empty: any node. */
  nodeLimit: uniqueList(name, VM_MAX_NODE_LIMIT, 'nodes'),
  /** null: the cluster's default (ClusterInfo.defaultVmSelector). */
  selector: z.enum(VM_SELECTORS).nullable(),
  /** Started when its node becomes ready (`pvc node ready`). */
  autostart: z.boolean(),
  migrationMethod: z.enum(MIGRATION_METHODS),
  maxDowntimeMs: z.number().int().min(1).max(MAX_DOWNTIME_LIMIT_MS),
});
export type VmPlacement = z.infer<typeof VmPlacementDoc>;

/** Desired state of one VM; written by clients (define, modify, state changes) and by placement. */
export const VmSpecDoc = z.strictObject({
  name,
  uuid: z.string().regex(UUID, 'must be a uuid in lowercase hex, such as 6d1c0a4e-0000-4000-8000-000000000003'),
  vcpus: z.number().int().min(1).max(VM_MAX_VCPUS),
  memoryMiB: z.number().int().min(VM_MIN_MEMORY_MIB).max(VM_MAX_MEMORY_MIB),
  disks: z.array(VmDiskDoc).max(VM_MAX_DISKS).refine((disks) => new Set(disks.map((d) => d.target)).size === disks.length, 'must not use the same target twice'),
  nics: z.array(VmNicDoc).max(VM_MAX_NICS).refine((nics) => new Set(nics.map((n) => n.mac)).size === nics.length, 'must not use the same mac twice'),
  boot: VmBootDoc,
  serial: VmSerialDoc,
  placement: VmPlacementDoc,
  tags: uniqueList(z.string().regex(TAG, `must be 1-${VM_TAG_MAX_CHARS} letters, digits, dots, colons, underscores, hyphens`), VM_MAX_TAGS, 'tags'),
  desiredState: z.enum(VM_STATES),
  /** The node that should run it; null until placement assigns one. */
  node: name.nullable(),
  /** Where a temporary migration (`migrate`) came from, for `unmigrate`; null otherwise. */
  lastNode: name.nullable(),
  /** A user's own domain XML, used instead of the template; checked by common/vm/raw-xml.ts. */
  rawXml: z.string().max(RAW_XML_MAX_BYTES).optional(),
});
export type VmSpec = z.infer<typeof VmSpecDoc>;

export const VmStatsDoc = z.strictObject({
  cpuTimeMs: z.number().int().nonnegative(),
  memoryMiB: z.number().int().nonnegative(),
  diskReadBytes: z.number().int().nonnegative(),
  diskWriteBytes: z.number().int().nonnegative(),
  netRxBytes: z.number().int().nonnegative(),
  netTxBytes: z.number().int().nonnegative(),
});
export type VmStats = z.infer<typeof VmStatsDoc>;

/** Observed state of one VM; written only by the pvcd of the node that runs (or last ran) it. */
export const VmStatusDoc = z.strictObject({
  state: z.enum(VM_STATES),
  node: name,
  /** Why the VM is in `fail`; null in every other state. */
  failureReason: z.string().max(FAILURE_REASON_MAX_CHARS).nullable(),
  /** null while the domain does not run. */
  stats: VmStatsDoc.nullable(),
  /**
   * The node where the VM's domain last ran, kept across later stop and fail reports (by other
   * nodes too): whoever still holds its RBD volumes is judged by it (daemon/runtime/rbd-guard.ts).
   * Absent in statuses written before it existed.
   */
  ranOn: name.nullable().optional(),
  /** Wall clock of the writer; shown to people, never compared with another machine's clock. */
  updatedAtMs: z.number().int().nonnegative(),
});
export type VmStatus = z.infer<typeof VmStatusDoc>;
