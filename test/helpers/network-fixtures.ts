// Network specs, reservations and leases shared by the network-service tests.
import type { ClusterNetwork, DhcpLease, DhcpReservation, ManagedNetwork } from '../../common/zk/schema.ts';

export function managedNetwork(overrides: Partial<ManagedNetwork> = {}): ManagedNetwork {
  return {
    name: 'prod',
    type: 'managed',
    vni: 100,
    description: 'production',
    domain: 'prod.c1.pvc.local',
    mtu: null,
    ipv4: { subnet: '10.100.0.0/24', gateway: '10.100.0.1', dhcp: { enabled: true, start: '10.100.0.100', end: '10.100.0.199' } },
    ipv6: null,
    nameServers: [],
    firewall: { defaultInbound: 'accept', defaultOutbound: 'accept' },
    ...overrides,
  };
}

export const CLUSTER_NETWORK: ClusterNetwork = { asn: 65500, upstreamPeers: [], floatingIps: [], dnsZone: 'c1.pvc.local', upstreamResolvers: [] };

export const RESERVATION_WEB: DhcpReservation = { mac: '52:54:00:00:01:01', ipv4: '10.100.0.10', hostname: 'web1' };
export const RESERVATION_ANON: DhcpReservation = { mac: '52:54:00:00:01:02', ipv4: '10.100.0.11', hostname: null };
export const LEASE_VM2: DhcpLease = { mac: '52:54:00:00:02:01', ipv4: '10.100.0.101', hostname: 'vm2', expiresAtS: 1_800_000_000 };
