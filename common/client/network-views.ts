// What `network list` and `network info` show: the stored spec plus what pvc derives from it
// (the bridge and interface names every node uses) and counts of what hangs under it.
import { bridgeIdOf, bridgeNameOf, memberInterfaceOf, type NetworkSpec } from '../zk/schema.ts';
import { mustReadNetwork, readAcls, readAllNetworks, readLeases, readReservations, type NetworkTarget } from './network-read.ts';
import { networkUsers } from './network-write.ts';

export interface NetworkView {
  name: string;
  type: NetworkSpec['type'];
  /** The VNI (managed) or VLAN id (bridged). */
  id: number;
  bridge: string;
  domain: string | null;
  ipv4Subnet: string | null;
  ipv4Gateway: string | null;
  /** null for bridged networks and networks without IPv4. */
  dhcp4: boolean | null;
  ipv6Subnet: string | null;
  /** Bridged networks: the device, null for the node's default. */
  device: string | null;
  mtu: number | null;
  description: string;
}

export function networkView(spec: NetworkSpec): NetworkView {
  const managed = spec.type === 'managed' ? spec : null;
  return {
    name: spec.name,
    type: spec.type,
    id: bridgeIdOf(spec),
    bridge: bridgeNameOf(spec),
    domain: managed?.domain ?? null,
    ipv4Subnet: managed?.ipv4?.subnet ?? null,
    ipv4Gateway: managed?.ipv4?.gateway ?? null,
    dhcp4: managed?.ipv4 ? managed.ipv4.dhcp.enabled : null,
    ipv6Subnet: managed?.ipv6?.subnet ?? null,
    device: spec.type === 'bridged' ? spec.device : null,
    mtu: spec.mtu,
    description: spec.description,
  };
}

export async function listNetworks(target: NetworkTarget, type?: NetworkSpec['type']): Promise<NetworkView[]> {
  const all = await readAllNetworks(target);
  return all.map((n) => networkView(n.value)).filter((v) => type === undefined || v.type === type);
}

export interface NetworkInfoView {
  spec: NetworkSpec;
  bridge: string;
  /** The interface enslaved to the bridge on every node. */
  memberInterface: string;
  reservations: number;
  leases: number;
  acls: number;
  /** VMs with a NIC on this network. */
  vms: string[];
}

export async function networkInfo(target: NetworkTarget, name: string): Promise<NetworkInfoView> {
  const spec = (await mustReadNetwork(target, name)).value;
  const [reservations, leases, acls, users] = await Promise.all([
    readReservations(target, name),
    readLeases(target, name),
    readAcls(target, name),
    networkUsers(target, name),
  ]);
  return {
    spec,
    bridge: bridgeNameOf(spec),
    memberInterface: memberInterfaceOf(spec),
    reservations: reservations.length,
    leases: leases.length,
    acls: acls.length,
    vms: users.map((u) => u.vm),
  };
}
