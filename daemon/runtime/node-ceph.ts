// A node's way to Ceph for its VMs' disks, set up once when pvcd connects its hypervisor: the
// cephx key goes into libvirt as a private secret (QEMU gets it from libvirt, never from a file
// the guest's XML names), and the monitors come from ceph.conf. Domain XML then needs only the
// secret's uuid, which is the same on every node, so a VM's XML is the same wherever it runs.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { PvcError, errorMessage } from '../../common/errors.ts';
import type { DomainNodeFacts } from '../../common/vm/domain-xml.ts';
import type { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import type { PvcdConfig } from '../config.ts';
import type { CephDriver } from '../drivers/ceph/port.ts';
import { monitorsFromCephConf } from '../drivers/ceph/mon-host.ts';
import type { HypervisorDriver } from '../drivers/hypervisor/port.ts';
import { RbdGuard } from './rbd-guard.ts';
import { retryTransient } from './retry.ts';

export type NodeCephConfig = NonNullable<PvcdConfig['ceph']>;

export interface NodeCeph {
  facts: NonNullable<DomainNodeFacts['rbd']>;
  guard: RbdGuard;
}

export async function connectNodeCeph(options: {
  config: NodeCephConfig;
  ceph: CephDriver;
  hypervisor: HypervisorDriver;
  store: ZkStore;
  layout: ZkLayout;
  node: string;
  log: Logger;
}): Promise<NodeCeph> {
  const { config, ceph, hypervisor, log } = options;
  let confText: string;
  try {
    confText = readFileSync(config.conf, 'utf8');
  } catch (error) {
    throw new PvcError('bad-input', `cannot read ceph config ${config.conf}: ${errorMessage(error)}`);
  }
  const monitors = monitorsFromCephConf(confText, config.conf);
  const keyBase64 = await retryTransient('read the cephx key', () => ceph.clientKey(config.id), log);
  await retryTransient('set the ceph secret in libvirt', () => hypervisor.setCephSecret({ uuid: config.secretUuid, usageName: `client.${config.id} secret`, keyBase64 }), log);
  log.info({ monitors, client: config.id, secretUuid: config.secretUuid }, 'ceph ready for vm disks');
  return {
    facts: { monitors, user: config.id, secretUuid: config.secretUuid },
    guard: new RbdGuard({ ceph, store: options.store, layout: options.layout, node: options.node, log: log.child({ component: 'rbd-guard' }), waitLimitMs: config.holderWaitLimitMs }),
  };
}
