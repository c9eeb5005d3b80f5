// The hypervisor contract against the simulation driver: two nodes of one SimWorld.
import { SimWorld } from '../../daemon/drivers/hypervisor/sim.ts';
import { guestDomainXml } from '../helpers/guest-domain.ts';
import { hypervisorContract } from './hypervisor.contract.ts';

/** The sim needs no real files: the XML only has to look like the real guest's. */
const FAKE_GUEST = { kernelPath: '/sim/vmlinuz', initrdPath: '/sim/initrd.gz' };

hypervisorContract('simulation', async () => {
  // Small delays keep the ordering of the real thing (shutdown returns before the power-off).
  const world = new SimWorld({ acpiShutdownMs: 20, migrationMs: 10 });
  const nodes = [world.addNode({ name: 'sim-a' }), world.addNode({ name: 'sim-b' })] as const;
  return {
    nodes,
    targetOf: async (index) => ({ uri: nodes[index].uri, migrateUri: null }),
    guestXml: (name, uuid, index) => guestDomainXml({ name, uuid, guest: FAKE_GUEST, consoleLog: `/sim/${name}-${index}.log` }),
    waitGuestReady: async () => undefined,
    stateTimeoutMs: 5_000,
    migrationTimeoutMs: 5_000,
    stop: async () => undefined,
  };
});
