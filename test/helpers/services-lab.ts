// A cluster for the primary's network services with every part real: a NetnsLab (node
// namespaces on one underlay, FRR EVPN, VM namespaces on the VXLAN network's bridges), one
// managed network in ZooKeeper, and a pvcd process per node (through PvcdFleet) whose runnables
// `gateways`, `dns`, `dhcp` run their addresses, PowerDNS and dnsmasq inside that node's
// namespace (config `services.netns`) while pvcd itself stays where it reaches ZooKeeper.
// Shared by test/integration/network-services.test.ts and test/bench/network-failover.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addNetwork } from '../../common/client/network-write.ts';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout, type ManagedNetwork } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { lookup, requestLease, type ClientLease } from './dhcp-client.ts';
import { succeedsIn } from './netns.ts';
import { NetnsLab, type LabVm } from './netns-lab.ts';
import { PvcdFleet } from './pvcd-fleet.ts';
import { waitFor } from './wait.ts';
import { uniqueClusterName } from './zk.ts';

export const SERVICE_RUNNABLES = ['gateways', 'dns', 'dhcp'];
export const GATEWAY = '10.100.0.1';
export const FLOATING_IP = '172.30.0.250/24';
const NOOP_HOOK = fileURLToPath(new URL('udhcpc-noop-hook.sh', import.meta.url));
/** EVPN's flood lists fill within seconds of FRR's start; a busy machine gets this long. */
const EVPN_READY_MS = 60_000;

export interface ServicesLabOptions {
  /** 1-6 lowercase letters/digits, unique to the file using it. */
  tag: string;
  dir: string;
  hosts: string;
  store: ZkStore;
  sessionTimeoutMs: number;
  nodes: readonly string[];
  /** VM name -> the node it sits on. */
  vms: Readonly<Record<string, string>>;
}

export class ServicesLab {
  readonly vms = new Map<string, LabVm & { mac: string }>();

  private constructor(
    readonly lab: NetnsLab,
    readonly fleet: PvcdFleet,
    readonly layout: ZkLayout,
    readonly network: ManagedNetwork,
    private readonly options: ServicesLabOptions,
  ) {}

  static async create(options: ServicesLabOptions): Promise<ServicesLab> {
    const { store } = options;
    const cluster = uniqueClusterName(options.tag);
    const layout = new ZkLayout(cluster);
    await migrateSchema(store, layout);
    await store.set(layout.clusterNetwork(), { asn: 65500, upstreamPeers: [], floatingIps: [{ address: FLOATING_IP, device: null }], dnsZone: `${cluster}.pvc.local`, upstreamResolvers: [] });
    const draft = { name: 'prod', type: 'managed', vni: 100, ipv4: { subnet: '10.100.0.0/24', gateway: GATEWAY, dhcp: { start: '10.100.0.100', end: '10.100.0.199' } } };
    const network = (await addNetwork({ store, layout }, draft)).spec as ManagedNetwork;
    const lab = await NetnsLab.create({ tag: options.tag, dir: path.join(options.dir, 'lab'), nodes: options.nodes.map((name) => ({ name, role: 'coordinator' as const })) });
    const fleet = new PvcdFleet(options.hosts, cluster, store, { baseDir: options.dir, sessionTimeoutMs: options.sessionTimeoutMs });
    const self = new ServicesLab(lab, fleet, layout, network, options);
    try {
      await self.build();
      return self;
    } catch (error) {
      await self.destroy().catch(() => undefined);
      throw error;
    }
  }

  private async build(): Promise<void> {
    const { lab, network } = this;
    const failures = await lab.applyNetworks([network]);
    if (failures.length > 0) throw new Error(`lab links: ${JSON.stringify(failures)}`);
    await lab.startFrr({ asn: 65500, upstreamPeers: [] }, [network]);
    for (const [i, [name, nodeName]] of Object.entries(this.options.vms).entries()) {
      const mac = `52:54:00:00:0${i + 1}:01`;
      const vm = await lab.addVm(lab.node(nodeName), name, mac);
      await lab.attachVm(vm, 'vmbr100');
      this.vms.set(name, { ...vm, mac });
    }
    // Broadcasts (DHCP) reach every node once each has the others in its flood list.
    for (const node of lab.nodes) {
      const others = lab.nodes.filter((n) => n !== node).map((n) => n.underlayAddress);
      await waitFor(`evpn flood list on ${node.name}`, async () => {
        const dsts = new Set((await node.links.listFdb('vxlan100')).filter((e) => e.mac === '00:00:00:00:00:00').map((e) => e.dst));
        return others.every((a) => dsts.has(a));
      }, EVPN_READY_MS);
    }
    for (const node of lab.nodes) this.startPvcd(node.name);
  }

  startPvcd(node: string): void {
    const labNode = this.lab.node(node);
    this.fleet.start(node, 'coordinator', {
      runnables: SERVICE_RUNNABLES,
      sections: {
        services: {
          netns: labNode.netns,
          stateDir: path.join(this.options.dir, 'services', node),
          floatingIpDevice: labNode.underlayDevice,
          dhcp: { leaseTimeS: 600, logDhcp: true },
        },
      },
    });
  }

  get domain(): string {
    return this.network.domain;
  }

  vm(name: string): LabVm & { mac: string } {
    const vm = this.vms.get(name);
    if (!vm) throw new Error(`no vm ${name}`);
    return vm;
  }

  /** A full DHCP exchange that configures the VM (address and default route). */
  lease(vm: string, tries = 3): Promise<ClientLease | null> {
    const v = this.vm(vm);
    return requestLease(v.netns, v.device, vm, tries);
  }

  /** One DHCP exchange that changes nothing in the VM: true when a server answered. */
  probeLease(vm: string): Promise<boolean> {
    const v = this.vm(vm);
    return succeedsIn(v.netns, 'busybox', ['udhcpc', '-i', v.device, '-f', '-q', '-n', '-t', '1', '-T', '1', '-s', NOOP_HOOK, '-x', `hostname:${vm}`], 5_000);
  }

  /** A name looked up from the VM at the network's gateway (its dnsmasq). */
  resolve(vm: string, name: string, type = 'A'): Promise<string[] | null> {
    return lookup(this.vm(vm).netns, GATEWAY, name, type);
  }

  ping(vm: string, address: string): Promise<boolean> {
    return this.lab.ping(this.vm(vm), address);
  }

  /** The node's global addresses on a device, read in its namespace. */
  async addressesOn(node: string, device: string): Promise<string[]> {
    const { stdout } = await this.lab.exec(this.lab.node(node).netns, 'ip', ['-json', 'addr', 'show', 'dev', device]);
    const links = JSON.parse(stdout.trim() || '[]') as Array<{ addr_info?: Array<{ local: string; prefixlen: number; scope: string }> }>;
    return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`));
  }

  async destroy(): Promise<void> {
    await this.fleet.stopAll();
    await this.lab.destroy();
  }
}
