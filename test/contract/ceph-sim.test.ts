// The Ceph contract against the simulation: the other clients (lock holder, QEMU-like watcher,
// guest writes) are the sim's own methods.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SimCeph } from '../../daemon/drivers/ceph/sim.ts';
import { cephContract } from './ceph.contract.ts';

cephContract('simulation', async () => {
  const sim = new SimCeph({ osds: 1 });
  const workDir = mkdtempSync(path.join(tmpdir(), 'pvc-ceph-sim-contract-'));
  return {
    driver: sim,
    workDir,
    holdLock: async (pool, image, id) => {
      sim.holdLock(pool, image, id);
    },
    open: async (pool, image) => {
      const watcher = sim.openWatcher(pool, image);
      return { address: watcher.address, close: async () => sim.closeWatcher(pool, image, watcher.address) };
    },
    fill: async (pool, image, offset, length, byte) => sim.write(pool, image, offset, Buffer.alloc(length, byte)),
    osdFileDir: workDir,
    mayLoseData: true,
    settleTimeoutMs: 5_000,
    stop: async () => rmSync(workDir, { recursive: true, force: true }),
  };
});
