// What a BMC's power button does to a test node that runs real pvcd and a real libvirtd
// (test/integration/ha-libvirt.test.ts, test/cluster/ha-rbd.test.ts): power off is the machine
// losing power — its pvcd is killed (thawed first, if frozen) and its QEMU destroyed before
// ipmitool sees the answer; power on boots it, which starts its pvcd again. And the way back to
// service once a fenced node has booted.
import { fenceSeenByNode, readFence, returnFencedNode } from '../../common/client/ha.ts';
import type { ZkLayout } from '../../common/zk/schema.ts';
import { setNodeDomainState } from '../../common/client/node-domain.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { IpmitoolDriver } from '../../daemon/drivers/ipmi/ipmitool.ts';
import type { PowerState } from '../../daemon/drivers/ipmi/port.ts';
import type { BmcFleet } from '../../scripts/lib/ipmi-bmc.ts';
import type { LibvirtPair } from './libvirt-pair.ts';
import type { PvcdFleet } from './pvcd-fleet.ts';
import { waitFor } from './wait.ts';

export function actOutPower(fleet: PvcdFleet, pair: LibvirtPair, nodes: readonly string[]): (node: string, state: PowerState) => Promise<void> {
  return async (node, state) => {
    if (state === 'on') {
      fleet.start(node);
      return;
    }
    fleet.signal(node, 'SIGCONT');
    fleet.signal(node, 'SIGKILL');
    const driver = pair.drivers[nodes.indexOf(node) as 0 | 1];
    for (const domain of await driver.listDomains()) if (domain.state !== 'shutoff') await driver.destroy(domain.name).catch(() => undefined);
    await fleet.waitExit(node, 10_000);
  };
}

/** The fenced node boots (BMC power on starts its pvcd), reports fenced, and is returned to service. */
export async function bootAndReturn(store: ZkStore, fleet: PvcdFleet, bmcs: BmcFleet, node: string, waitMs: number, whileFenced: () => Promise<void> = async () => undefined): Promise<void> {
  await new IpmitoolDriver().powerOn(bmcs.target(node));
  await waitFor(`${node} reporting fenced`, async () => (await store.get(fleet.layout.nodeStatus(node)))?.value.daemonState === 'fenced' && (await store.stat(fleet.layout.nodeAlive(node))) !== null, waitMs);
  await whileFenced();
  await waitFenceConfirmed(store, fleet.layout, node, waitMs);
  await returnFencedNode(store, fleet.layout, node);
  await setNodeDomainState(store, fleet.layout, node, 'ready', { waitMs: 0 });
  await waitFor(`${node} in run`, async () => (await store.get(fleet.layout.nodeStatus(node)))?.value.daemonState === 'run', waitMs);
}

/** Until the node's pvcd has confirmed its fence record (or the record is gone): `node ready` needs it. */
export async function waitFenceConfirmed(store: ZkStore, layout: ZkLayout, node: string, waitMs: number): Promise<void> {
  await waitFor(`${node} confirming its fence`, async () => {
    const fence = await readFence(store, layout, node);
    return fence === null || fenceSeenByNode(fence.value);
  }, waitMs);
}
