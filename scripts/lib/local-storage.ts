// The local cluster's storage: a single-host Ceph under CLUSTER_DIR/ceph (scripts/lib/ceph-cluster.ts:
// 1 mon, 1 mgr, 1 bluestore OSD on a sparse file, cephx, 127.0.0.1 only), the settings that point
// pvcd and the CLI at it, and what `npm run cluster` puts in it through the storage client (so pvc
// manages it): the pool `vms` and a small golden image `vms/sample-base@gold` whose first line is
// a marker, which the sample RBD guest prints from its vda once a clone of it is its disk.
import { closeSync, ftruncateSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { openCluster } from '../../common/client/client.ts';
import { addPool } from '../../common/client/storage-pools.ts';
import { addSnapshot } from '../../common/client/storage-snapshots.ts';
import { uploadVolume } from '../../common/client/storage-transfer.ts';
import type { CephAccess, Connection } from '../../common/connections.ts';
import { createCephDriver } from '../../daemon/drivers/ceph/factory.ts';
import { startCephCluster, type CephCluster } from './ceph-cluster.ts';
import { CEPH_DIR, CLUSTER_DIR, LOCAL_POOL, SAMPLE_BASE_SNAPSHOT, SAMPLE_BASE_VOLUME, SAMPLE_RBD_DISK, SAMPLE_RBD_VM_NAME } from './local-cluster.ts';
import { GUEST_BASE_CMDLINE, GUEST_MEMORY_MIB, type TestGuest } from './test-guest.ts';

/** The cephx user pvcd and the CLI use on the local cluster. */
const LOCAL_CEPH_ID = 'admin';
/** 16 placement groups of one replica peer in seconds on the one OSD and leave room for more pools. */
const LOCAL_POOL_PG_NUM = 16;
/** The golden image: sparse, only its first line written; a guest disk can be resized later. */
const SAMPLE_BASE_SIZE_BYTES = 256 * 1024 ** 2;
/** What the sample RBD guest prints as `GUEST-DISK: vda first line: ...`. */
export const SAMPLE_DISK_MARKER = 'PVC-SAMPLE-RBD-DISK';
/** A sparse 256 MiB upload is a second or two here; the bound is for a very busy machine. */
const SAMPLE_UPLOAD_TIMEOUT_MS = 300_000;

export function startLocalCeph(): Promise<CephCluster> {
  return startCephCluster({ dir: CEPH_DIR, osds: 1, objectStore: 'bluestore' });
}

/** How the CLI's `local` connection reaches Ceph. */
export function localCephAccess(cluster: CephCluster): CephAccess {
  return { conf: cluster.confPath, id: LOCAL_CEPH_ID, keyring: cluster.adminKeyringPath };
}

/** pvcd's `ceph` section (daemon/config.ts): VM disks on this node and the primary's storage status. */
export function localCephSection(cluster: CephCluster): Record<string, unknown> {
  return { ceph: { driver: 'real', conf: cluster.confPath, id: LOCAL_CEPH_ID, keyring: cluster.adminKeyringPath } };
}

/**
 * Creates the pool and the golden image through the storage client, as `pvc storage pool add`
 * and `pvc storage volume upload` + `snapshot add` would. Needs a running pvcd (it migrated the
 * schema, which made the storage folders).
 */
export async function setUpLocalStorage(connection: Connection): Promise<void> {
  if (!connection.ceph) throw new Error(`connection ${connection.name} has no ceph settings`);
  const ceph = createCephDriver({ driver: 'real', conf: connection.ceph.conf, id: connection.ceph.id, keyring: connection.ceph.keyring });
  const client = await openCluster(connection);
  const target = { store: client.store, layout: client.layout, ceph };
  const file = path.join(CLUSTER_DIR, `${SAMPLE_BASE_VOLUME}.raw`);
  try {
    await addPool(target, LOCAL_POOL, { pgNum: LOCAL_POOL_PG_NUM });
    writeSampleImage(file);
    await uploadVolume(target, { pool: LOCAL_POOL, volume: SAMPLE_BASE_VOLUME }, file, 'raw', { timeoutMs: SAMPLE_UPLOAD_TIMEOUT_MS });
    await addSnapshot(target, { pool: LOCAL_POOL, volume: SAMPLE_BASE_VOLUME, snapshot: SAMPLE_BASE_SNAPSHOT });
  } finally {
    rmSync(file, { force: true });
    await client.close();
  }
}

/** A sparse raw image whose first line is the marker (rbd import skips the zeros). */
function writeSampleImage(file: string): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    writeSync(fd, Buffer.from(`${SAMPLE_DISK_MARKER}: cloned from ${LOCAL_POOL}/${SAMPLE_BASE_VOLUME}@${SAMPLE_BASE_SNAPSHOT}\n`));
    ftruncateSync(fd, SAMPLE_BASE_SIZE_BYTES);
  } finally {
    closeSync(fd);
  }
}

/** The test guest with a clone of the golden image as vda; the guest prints the disk's first line. */
export function sampleRbdVm(guest: TestGuest): Record<string, unknown> {
  return {
    name: SAMPLE_RBD_VM_NAME,
    vcpus: 1,
    memoryMiB: GUEST_MEMORY_MIB,
    disks: [{ target: 'vda', source: { type: 'rbd', pool: LOCAL_POOL, image: SAMPLE_RBD_DISK } }],
    boot: { kind: 'kernel', kernel: guest.kernelPath, initrd: guest.initrdPath, cmdline: `${GUEST_BASE_CMDLINE} stay=1` },
    serial: { log: true },
    placement: { migrationMethod: 'live' },
  };
}
