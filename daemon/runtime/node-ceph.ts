// A node's way to Ceph for its VMs' disks: the cephx key goes into libvirt as a private secret
// (QEMU gets it from libvirt, never from a file the guest's XML names), and the monitors come
// from ceph.conf. Domain XML then needs only the secret's uuid, which is the same on every node,
// so a VM's XML is the same wherever it runs.
//
// The secret is set lazily: pvcd tries once at start, in the background, and again before each
// start of a VM with RBD disks until it succeeds. Ceph being down must not keep pvcd from
// starting (its other VMs, its keepalive and its election do not need Ceph), and a VM with RBD
// disks simply waits (retried, not failed) until Ceph answers.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { PvcError, errorMessage } from '../../common/errors.ts';
import type { DomainNodeFacts } from '../../common/vm/domain-xml.ts';
import type { VmSpec, VmStatus, ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import type { PvcdConfig } from '../config.ts';
import type { CephDriver } from '../drivers/ceph/port.ts';
import { monitorsFromCephConf, type MonitorAddress } from '../drivers/ceph/mon-host.ts';
import type { HypervisorDriver } from '../drivers/hypervisor/port.ts';
import { RbdGuard, type RbdAccess } from './rbd-guard.ts';

export type NodeCephConfig = NonNullable<PvcdConfig['ceph']>;
type RbdFacts = NonNullable<DomainNodeFacts['rbd']>;

export interface NodeCephOptions {
  config: NodeCephConfig;
  ceph: CephDriver;
  hypervisor: HypervisorDriver;
  store: ZkStore;
  layout: ZkLayout;
  node: string;
  log: Logger;
}

export class NodeCeph {
  private readonly monitors: MonitorAddress[];
  private readonly guard: RbdGuard;
  private ready: RbdFacts | null = null;
  private settingUp: Promise<RbdFacts> | null = null;

  /** Reads the monitors from ceph.conf now: a missing or unreadable file is a config error. */
  constructor(private readonly options: NodeCephOptions) {
    const { config, log } = options;
    let confText: string;
    try {
      confText = readFileSync(config.conf, 'utf8');
    } catch (error) {
      throw new PvcError('bad-input', `cannot read ceph config ${config.conf}: ${errorMessage(error)}`);
    }
    this.monitors = monitorsFromCephConf(confText, config.conf);
    this.guard = new RbdGuard({ ceph: options.ceph, store: options.store, layout: options.layout, node: options.node, log: log.child({ component: 'rbd-guard' }), waitLimitMs: config.holderWaitLimitMs });
  }

  /** What domain XML needs; null until the secret is in libvirt. */
  get facts(): RbdFacts | null {
    return this.ready;
  }

  /** Tries the set-up once in the background (pvcd start); a failure is logged and retried later. */
  prepare(): void {
    this.ensureReady().catch((error: unknown) => this.options.log.warn({ err: errorMessage(error) }, 'ceph not ready for vm disks yet; retried before the next rbd vm starts'));
  }

  /** Before a VM with RBD disks starts: the secret set, then the holder check (rbd-guard.ts). */
  async ensureAccess(spec: VmSpec, status: VmStatus | null): Promise<RbdAccess> {
    if (spec.disks.some((disk) => disk.source.type === 'rbd')) await this.ensureReady();
    return this.guard.ensureAccess(spec, status);
  }

  private ensureReady(): Promise<RbdFacts> {
    if (this.ready) return Promise.resolve(this.ready);
    this.settingUp ??= this.setUp().finally(() => (this.settingUp = null));
    return this.settingUp;
  }

  private async setUp(): Promise<RbdFacts> {
    const { config, ceph, hypervisor, log } = this.options;
    const keyBase64 = await ceph.clientKey(config.id);
    await hypervisor.setCephSecret({ uuid: config.secretUuid, usageName: `client.${config.id} secret`, keyBase64 });
    this.ready = { monitors: this.monitors, user: config.id, secretUuid: config.secretUuid };
    log.info({ monitors: this.monitors, client: config.id, secretUuid: config.secretUuid }, 'ceph ready for vm disks');
    return this.ready;
  }
}
