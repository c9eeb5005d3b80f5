// Two real libvirtd nodes (scripts/lib/libvirt-node.ts) and the test guest, for the tests that
// need real QEMU: the hypervisor contract and the libvirt integration test. Each test file
// starts its own pair under its run folder with fresh host UUIDs, so files running at once
// never share a daemon; stop() destroys leftover domains and stops the daemons.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { MigrationTarget } from '../../daemon/drivers/hypervisor/port.ts';
import { VirshHypervisor } from '../../daemon/drivers/hypervisor/virsh.ts';
import { startLibvirtNode, type LibvirtNode } from '../../scripts/lib/libvirt-node.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import { ensureTestGuest, type TestGuest } from '../../scripts/lib/test-guest.ts';
import { waitForConsoleLine } from './guest-domain.ts';

/** Boot to GUEST-STAYING is ~9 s under TCG here; far more when other runs load the two cores. */
export const GUEST_READY_TIMEOUT_MS = 180_000;

export interface LibvirtPair {
  readonly nodes: readonly [LibvirtNode, LibvirtNode];
  readonly drivers: readonly [VirshHypervisor, VirshHypervisor];
  readonly guest: TestGuest;
  /** Console log of a domain while it runs on node `index` (one file per node, see guest-domain.ts). */
  consoleLog(name: string, index: 0 | 1): string;
  /** A migration to node `index`: its URI and a fresh loopback port for QEMU's memory stream. */
  targetOf(index: 0 | 1): Promise<MigrationTarget>;
  /** Resolves when the guest on node `index` has its acpid running (it printed GUEST-STAYING). */
  waitGuestReady(name: string, index: 0 | 1, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `names`: short node names (they become hostnames and socket path parts). */
export async function startLibvirtPair(dir: string, names: readonly [string, string]): Promise<LibvirtPair> {
  const guest = await ensureTestGuest();
  const consoleDir = path.join(dir, 'console');
  mkdirSync(consoleDir, { recursive: true });
  const started = await Promise.allSettled(names.map((name) => startLibvirtNode({ dir: path.join(dir, name), name, hostUuid: randomUUID() })));
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed || nodes.length !== 2) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw failed?.reason ?? new Error('libvirt pair: a node did not start');
  }
  const pair = nodes as unknown as readonly [LibvirtNode, LibvirtNode];
  const consoleLog = (name: string, index: 0 | 1): string => path.join(consoleDir, `${name}.${names[index]}.log`);
  return {
    nodes: pair,
    drivers: [new VirshHypervisor(pair[0].uri), new VirshHypervisor(pair[1].uri)],
    guest,
    consoleLog,
    targetOf: async (index) => ({ uri: pair[index].uri, migrateUri: `tcp://127.0.0.1:${(await findFreePorts(1))[0]}` }),
    waitGuestReady: async (name, index, timeoutMs = GUEST_READY_TIMEOUT_MS) => {
      await waitForConsoleLine(consoleLog(name, index), /GUEST-STAYING/, timeoutMs);
    },
    stop: async () => {
      await Promise.all(pair.map((node) => node.stop()));
    },
  };
}
