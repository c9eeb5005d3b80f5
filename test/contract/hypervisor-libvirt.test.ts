// The hypervisor contract against real libvirtd + QEMU (TCG): two libvirtd nodes on this machine,
// each in its own mount + UTS namespace, running the diskless test guest.
import path from 'node:path';
import { inject } from 'vitest';
import { guestDomainXml } from '../helpers/guest-domain.ts';
import { startLibvirtPair } from '../helpers/libvirt-pair.ts';
import { hypervisorContract } from './hypervisor.contract.ts';

/** Two nodes' first start (QEMU capability probe) plus, on a fresh machine, the guest build. */
const SETUP_TIMEOUT_MS = 300_000;
/** A test boots at most one TCG guest and waits for it: ~10 s alone, minutes under load. */
const TEST_TIMEOUT_MS = 240_000;

hypervisorContract(
  'libvirt (virsh, QEMU TCG)',
  async () => {
    const pair = await startLibvirtPair(path.join(inject('testRunDir'), 'hypervisor-contract'), ['ca', 'cb']);
    return {
      nodes: pair.drivers,
      targetOf: pair.targetOf,
      guestXml: (name, uuid, index) => guestDomainXml({ name, uuid, guest: pair.guest, consoleLog: pair.consoleLog(name, index) }),
      waitGuestReady: (name, index) => pair.waitGuestReady(name, index),
      stateTimeoutMs: 120_000,
      migrationTimeoutMs: 180_000,
      stop: pair.stop,
    };
  },
  { testTimeoutMs: TEST_TIMEOUT_MS, setupTimeoutMs: SETUP_TIMEOUT_MS },
);
