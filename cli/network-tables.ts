// How `pvc network` results read for people (the table format); json and yaml show the same
// data as it is. Types only from the client library, so that loading this costs nothing.
import type { DhcpEntryView } from '../common/client/network-dhcp.ts';
import type { NamedAcl } from '../common/client/network-read.ts';
import type { NetworkInfoView, NetworkView } from '../common/client/network-views.ts';
import type { NetworkWriteResult } from '../common/client/network-write.ts';
import type { ClusterNetwork, NetworkAcl } from '../common/zk/schema.ts';
import { formatFields, formatTable, truncate, type Column } from './output.ts';

export const LIST_DESCRIPTION_MAX_CHARS = 40;

const NETWORK_COLUMNS: Column<NetworkView>[] = [
  { header: 'NAME', value: (n) => n.name },
  { header: 'TYPE', value: (n) => n.type },
  { header: 'ID', value: (n) => n.id, align: 'right' },
  { header: 'BRIDGE', value: (n) => n.bridge },
  { header: 'IPV4', value: (n) => n.ipv4Subnet },
  { header: 'GATEWAY', value: (n) => n.ipv4Gateway },
  { header: 'DHCP', value: (n) => n.dhcp4 },
  { header: 'IPV6', value: (n) => n.ipv6Subnet },
  { header: 'DOMAIN', value: (n) => n.domain ?? (n.type === 'bridged' ? `device ${n.device ?? 'default'}` : null) },
  { header: 'DESCRIPTION', value: (n) => truncate(n.description, LIST_DESCRIPTION_MAX_CHARS) },
];

export function networkListTable(networks: readonly NetworkView[], filtered: boolean): string {
  if (networks.length === 0) return filtered ? 'no network matches the filter' : 'no networks defined yet';
  return formatTable(NETWORK_COLUMNS, networks);
}

export function networkInfoTable(info: NetworkInfoView): string {
  const { spec } = info;
  const common: Array<[string, string | number | boolean | null]> = [
    ['name', spec.name],
    ['type', spec.type],
    ['bridge', `${info.bridge} (with ${info.memberInterface})`],
    ['mtu', spec.mtu ?? 'auto'],
    ['description', spec.description],
  ];
  if (spec.type === 'bridged') {
    return formatFields([...common, ['vlan', spec.vlan], ['device', spec.device ?? "each node's default"], ['vms', info.vms.join(', ') || 'none']]);
  }
  const v4 = spec.ipv4;
  const v6 = spec.ipv6;
  return formatFields([
    ...common,
    ['vni', spec.vni],
    ['domain', spec.domain],
    ['ipv4 subnet', v4?.subnet ?? 'none'],
    ['ipv4 gateway', v4?.gateway ?? null],
    ['ipv4 dhcp', v4 ? `${v4.dhcp.enabled ? 'on' : 'off'}${v4.dhcp.start ? `, range ${v4.dhcp.start}-${v4.dhcp.end}` : ''}` : null],
    ['ipv6 subnet', v6?.subnet ?? 'none'],
    ['ipv6 gateway', v6?.gateway ?? null],
    ['ipv6 dhcp', v6 ? (v6.dhcp.enabled ? 'on' : 'off') : null],
    ['name servers', spec.nameServers.join(', ') || 'the gateway'],
    ['firewall default', `in ${spec.firewall.defaultInbound}, out ${spec.firewall.defaultOutbound}`],
    ['dhcp reservations', info.reservations],
    ['dhcp leases', info.leases],
    ['acls', info.acls],
    ['vms', info.vms.join(', ') || 'none'],
  ]);
}

export function networkWriteText(verb: 'added' | 'modified', result: NetworkWriteResult): string {
  if (!result.changed) return `network ${result.name} unchanged`;
  const spec = result.spec;
  const id = spec.type === 'managed' ? `vni ${spec.vni}` : `vlan ${spec.vlan}`;
  return `${verb} ${spec.type} network ${spec.name} (${id}, bridge vmbr${spec.type === 'managed' ? spec.vni : spec.vlan})`;
}

/** Leases end at an absolute time; shown as UTC, `never` for infinite ones. */
function expiresText(expiresAtS: number | null): string | null {
  if (expiresAtS === null) return null;
  return expiresAtS === 0 ? 'never' : new Date(expiresAtS * 1000).toISOString().replace('.000Z', 'Z');
}

const DHCP_COLUMNS: Column<DhcpEntryView>[] = [
  { header: 'KIND', value: (e) => e.kind },
  { header: 'MAC', value: (e) => e.mac },
  { header: 'IPV4', value: (e) => e.ipv4 },
  { header: 'HOSTNAME', value: (e) => e.hostname },
  { header: 'EXPIRES', value: (e) => expiresText(e.expiresAtS) },
];

export function dhcpListTable(network: string, entries: readonly DhcpEntryView[]): string {
  return entries.length === 0 ? `network ${network} has no dhcp reservations or leases` : formatTable(DHCP_COLUMNS, entries);
}

function endpointText(value: string | null): string {
  return value ?? 'any';
}

function portsText(acl: NetworkAcl): string {
  return acl.ports?.map((p) => (p.from === p.to ? String(p.from) : `${p.from}-${p.to}`)).join(',') ?? 'any';
}

const ACL_COLUMNS: Column<NamedAcl>[] = [
  { header: 'DIRECTION', value: (a) => a.acl.direction },
  { header: 'ORDER', value: (a) => a.acl.order, align: 'right' },
  { header: 'NAME', value: (a) => a.name },
  { header: 'ACTION', value: (a) => a.acl.action },
  { header: 'PROTOCOL', value: (a) => a.acl.protocol },
  { header: 'SOURCE', value: (a) => endpointText(a.acl.source) },
  { header: 'DESTINATION', value: (a) => endpointText(a.acl.destination) },
  { header: 'PORTS', value: (a) => portsText(a.acl) },
  { header: 'DESCRIPTION', value: (a) => truncate(a.acl.description, LIST_DESCRIPTION_MAX_CHARS) },
];

export function aclListTable(network: string, acls: readonly NamedAcl[]): string {
  return acls.length === 0 ? `network ${network} has no acls` : formatTable(ACL_COLUMNS, acls);
}

export function aclAddText(network: string, added: NamedAcl): string {
  const { acl } = added;
  return `added acl ${added.name} to network ${network}: ${acl.direction} #${acl.order} ${acl.action} ${acl.protocol} from ${endpointText(acl.source)} to ${endpointText(acl.destination)} ports ${portsText(acl)}`;
}

export function clusterNetworkTable(settings: ClusterNetwork): string {
  return formatFields([
    ['asn', settings.asn],
    ['dns zone', settings.dnsZone],
    ['upstream peers', settings.upstreamPeers.map((p) => `${p.address} (asn ${p.asn})`).join(', ') || 'none'],
    ['floating ips', settings.floatingIps.map((f) => `${f.address}${f.device ? ` on ${f.device}` : ''}`).join(', ') || 'none'],
    ['upstream resolvers', settings.upstreamResolvers.join(', ') || 'none (names outside pvc\'s zones are not resolved)'],
  ]);
}
