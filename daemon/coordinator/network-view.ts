// What the primary's network services read from ZooKeeper (the managed networks, their
// reservations and leases, the cluster's network settings), and the watches that ask them for a
// pass when any of it changes. Watches only say "look again": every pass re-reads everything.
import { readAllNetworks, readClusterNetwork, readLeases, readReservations } from '../../common/client/network-read.ts';
import type { ClusterNetwork, DhcpLease, DhcpReservation, ManagedNetwork, ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';

export interface ManagedNetworkView {
  spec: ManagedNetwork;
  reservations: DhcpReservation[];
  leases: DhcpLease[];
}

export interface NetworkServicesView {
  cluster: ClusterNetwork;
  networks: ManagedNetworkView[];
}

export interface ViewParts {
  reservations: boolean;
  leases: boolean;
}

/** One read of everything; a network removed halfway through has no reservations or leases (the store lists a missing folder as empty). */
export async function readNetworkServicesView(store: ZkStore, layout: ZkLayout, parts: ViewParts): Promise<NetworkServicesView> {
  const target = { store, layout };
  const [cluster, specs] = await Promise.all([readClusterNetwork(target), readAllNetworks(target)]);
  const managed = specs.map((s) => s.value).filter((s): s is ManagedNetwork => s.type === 'managed');
  const networks = await Promise.all(
    managed.map(async (spec) => {
      const [reservations, leases] = await Promise.all([
        parts.reservations ? readReservations(target, spec.name).then((list) => list.map((r) => r.value)) : [],
        parts.leases ? readLeases(target, spec.name) : [],
      ]);
      return { spec, reservations, leases };
    }),
  );
  return { cluster, networks };
}

/**
 * Watches the networks folder, the cluster's network settings, every network's spec, and (as
 * asked) its reservations and leases folders; `trigger` runs on any change. New networks get
 * their watches when the folder's children change; removed ones lose them.
 */
export class NetworkWatches {
  private readonly perNetwork = new Map<string, Array<() => void>>();
  private readonly common: Array<() => void> = [];
  private stopped = false;

  constructor(
    private readonly store: ZkStore,
    private readonly layout: ZkLayout,
    private readonly parts: ViewParts,
    private readonly trigger: () => void,
  ) {}

  start(): void {
    const { store, layout } = this;
    this.stopped = false;
    this.common.push(store.watch(layout.networksDir(), 'children', () => void this.rescan()));
    this.common.push(store.watch(layout.clusterNetwork(), 'data', this.trigger));
    void this.rescan();
  }

  stop(): void {
    this.stopped = true;
    for (const unwatch of this.common.splice(0)) unwatch();
    for (const unwatchers of this.perNetwork.values()) for (const unwatch of unwatchers) unwatch();
    this.perNetwork.clear();
  }

  private async rescan(): Promise<void> {
    const { store, layout } = this;
    let names: string[];
    try {
      names = await store.children(layout.networksDir());
    } catch {
      this.trigger(); // the pass's own read reports the failure; the resync covers the watches
      return;
    }
    if (this.stopped) return;
    for (const [name, unwatchers] of this.perNetwork) {
      if (names.includes(name)) continue;
      for (const unwatch of unwatchers) unwatch();
      this.perNetwork.delete(name);
    }
    for (const name of names) {
      if (this.perNetwork.has(name)) continue;
      const unwatchers = [store.watch(layout.network(name), 'data', this.trigger)];
      if (this.parts.reservations) unwatchers.push(store.watch(layout.networkReservationsDir(name), 'children', this.trigger));
      if (this.parts.leases) unwatchers.push(store.watch(layout.networkLeasesDir(name), 'children', this.trigger));
      this.perNetwork.set(name, unwatchers);
    }
    this.trigger();
  }
}
