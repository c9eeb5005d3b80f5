// Other clients of a real Ceph cluster, for tests that need what a QEMU or a crashed client does
// to an image: an advisory lock (`rbd lock add`), an open image that shows as a watcher
// (qemu-nbd serving it on a unix socket), bytes written into it (qemu-io). The simulation has
// the same abilities as methods (SimCeph.holdLock, openWatcher, write).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { run, spawnBackground } from '../../common/exec.ts';
import { linkSocketDir, unlinkSocketDir } from '../../common/unix-socket-dir.ts';
import type { CephDriver } from '../../daemon/drivers/ceph/port.ts';
import { isAlive, signalIfAlive, waitGone } from '../../scripts/lib/pvcd-process.ts';
import type { CephCluster } from '../../scripts/lib/ceph-cluster.ts';
import { waitFor } from './wait.ts';

const RBD_TIMEOUT_MS = 60_000;
/** qemu-nbd opens the image and registers its watch in well under a second here. */
const WATCHER_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

export interface OpenImage {
  /** The client's address, as listWatchers shows it. */
  address: string;
  close(): Promise<void>;
}

/** `rbd lock add POOL/IMAGE ID` by a short-lived client (the lock stays, as a crashed holder's would). */
export async function rbdLockAdd(cluster: CephCluster, pool: string, image: string, id: string): Promise<void> {
  await run('rbd', ['--conf', cluster.confPath, 'lock', 'add', `${pool}/${image}`, id], { timeoutMs: RBD_TIMEOUT_MS });
}

/** Writes `length` bytes of `byte` at `offset` into the image (qemu-io through librbd). */
export async function rbdFill(cluster: CephCluster, pool: string, image: string, offset: number, length: number, byte: number): Promise<void> {
  const command = `write -P 0x${byte.toString(16).padStart(2, '0')} ${offset} ${length}`;
  await run('qemu-io', ['-f', 'raw', '-c', command, qemuTarget(cluster, pool, image)], { timeoutMs: RBD_TIMEOUT_MS });
}

/** Opens the image in a qemu-nbd process and waits until its watch shows; close() stops it. */
export async function rbdOpen(cluster: CephCluster, driver: CephDriver, pool: string, image: string, workDir: string): Promise<OpenImage> {
  const before = new Set((await driver.listWatchers(pool, image)).map((w) => w.address));
  const name = `nbd-${process.pid}-${Date.now()}.sock`;
  const socket = path.join(linkSocketDir(workDir, name), name);
  const pid = spawnBackground('qemu-nbd', ['-f', 'raw', '--socket', socket, qemuTarget(cluster, pool, image)], { logFile: `${socket}.log`, detached: false });
  const close = async (): Promise<void> => {
    signalIfAlive(pid, 'SIGTERM');
    if (!(await waitGone(pid, STOP_GRACE_MS))) signalIfAlive(pid, 'SIGKILL');
    // Nobody connects to the socket: an alias another open of this folder still names costs nothing.
    unlinkSocketDir(workDir, name);
  };
  try {
    const address = await waitFor(
      `a watcher of ${pool}/${image} from qemu-nbd`,
      async () => {
        if (!isAlive(pid)) throw new Error(`qemu-nbd exited; see ${socket}.log${existsSync(`${socket}.log`) ? '' : ' (none)'}`);
        return (await driver.listWatchers(pool, image)).find((w) => !before.has(w.address))?.address ?? null;
      },
      WATCHER_TIMEOUT_MS,
    );
    return { address, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function qemuTarget(cluster: CephCluster, pool: string, image: string): string {
  return `rbd:${pool}/${image}:id=admin:conf=${cluster.confPath}`;
}
