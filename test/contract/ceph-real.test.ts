// The Ceph contract against the run's real single-host cluster (test/helpers/ceph.ts: 1 mon,
// 1 mgr, 1 bluestore OSD on a sparse file, cephx, loopback only). Other clients are real too:
// `rbd lock add`, qemu-nbd holding the image open, qemu-io writing into it. The OSD test adds a
// second, file-backed OSD to the shared cluster for a few seconds and removes it again.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { rbdFill, rbdLockAdd, rbdOpen } from '../helpers/ceph-clients.ts';
import { CEPH_SETUP_TIMEOUT_MS, sharedCephDriver, uniqueCephName } from '../helpers/ceph.ts';
import { cephContract } from './ceph.contract.ts';

/** Pool creation, OSD add (mkfs + start) and placement groups moving take seconds alone; minutes under load. */
const TEST_TIMEOUT_MS = 240_000;

cephContract(
  'real (ceph and rbd CLIs, Ceph 16.2)',
  async () => {
    const { cluster, driver } = await sharedCephDriver();
    const workDir = path.join(inject('testRunDir'), uniqueCephName('ceph-contract'));
    mkdirSync(workDir, { recursive: true });
    return {
      driver,
      workDir,
      holdLock: (pool, image, id) => rbdLockAdd(cluster, pool, image, id),
      open: (pool, image) => rbdOpen(cluster, driver, pool, image, workDir),
      fill: (pool, image, offset, length, byte) => rbdFill(cluster, pool, image, offset, length, byte),
      osdFileDir: workDir,
      // Shared with the other test files of the run: a forced OSD removal would lose their data.
      mayLoseData: false,
      settleTimeoutMs: 180_000,
      stop: async () => undefined,
    };
  },
  { testTimeoutMs: TEST_TIMEOUT_MS, setupTimeoutMs: CEPH_SETUP_TIMEOUT_MS },
);
