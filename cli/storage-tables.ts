// How the storage commands look in table format. json and yaml show the same data as it is.
import type { PoolView, SnapshotView, StorageStatusView, VolumeInfoView, VolumeView } from '../common/client/storage-views.ts';
import { formatSize } from '../common/storage/size.ts';
import type { OsdStatus } from '../common/zk/schema.ts';
import { formatFields, formatTable, type Column } from './output.ts';

const size = (bytes: number | null | undefined): string | null => (bytes === null || bytes === undefined ? null : formatSize(bytes));
const percent = (value: number | null): string | null => (value === null ? null : `${value.toFixed(1)} %`);

export function storageStatusText(view: StorageStatusView): string {
  const ceph = view.status?.ceph ?? null;
  const checks = ceph ? Object.entries(ceph.checks).map(([code, summary]) => `${code}: ${summary}`) : [];
  const unmanaged = view.status?.unmanaged;
  return formatFields([
    ['cluster', view.cluster],
    ['ceph health', ceph?.health ?? 'unknown (no refresh has reached ceph yet)'],
    ...checks.map((line, i): [string, string] => [i === 0 ? 'health checks' : '', line]),
    ['fsid', ceph?.fsid],
    ['monitors in quorum', ceph?.monitorsInQuorum.join(', ')],
    ['osds', ceph ? `${ceph.osds.total} (${ceph.osds.up} up, ${ceph.osds.in} in)` : null],
    ['placement groups', ceph ? `${ceph.placementGroups.total} (${ceph.placementGroups.activeClean} active+clean)` : null],
    ['raw space', ceph ? `${formatSize(ceph.bytes.used)} used of ${formatSize(ceph.bytes.total)} (${formatSize(ceph.bytes.available)} available)` : null],
    ['pools / volumes', `${view.pools} / ${view.volumes} managed by pvc`],
    ['unmanaged', unmanaged ? `${unmanaged.poolCount} pool(s), ${unmanaged.volumeCount} volume(s)${unmanaged.volumes.length ? `: ${unmanaged.volumes.join(', ')}` : ''}` : null],
    ['fullness limit', `${view.settings.maxFullnessPercent} %`],
    ['refreshed by', view.status ? `${view.status.node} at ${view.status.refreshedAtMs === null ? 'never' : new Date(view.status.refreshedAtMs).toISOString()}` : 'no refresh yet (is a primary with the storage-status runnable up?)'],
    ['last refresh error', view.status?.lastError],
  ]);
}

export function utilTable(pools: readonly PoolView[], limitPercent: number): string {
  if (pools.length === 0) return 'no pools; add one with pvc storage pool add';
  const columns: Column<PoolView>[] = [
    { header: 'POOL', value: (p) => p.name },
    { header: 'STORED', value: (p) => size(p.status?.storedBytes), align: 'right' },
    { header: 'USED RAW', value: (p) => size(p.status?.usedBytes), align: 'right' },
    { header: 'MAX AVAIL', value: (p) => size(p.status?.maxAvailableBytes), align: 'right' },
    { header: 'FULL', value: (p) => percent(p.fullnessPercent), align: 'right' },
    { header: 'OBJECTS', value: (p) => p.status?.objects, align: 'right' },
    { header: 'VOLUMES', value: (p) => p.volumes, align: 'right' },
  ];
  return `${formatTable(columns, pools)}\n\nwrites past ${limitPercent} % full are refused`;
}

export function poolListTable(pools: readonly PoolView[]): string {
  if (pools.length === 0) return 'no pools; add one with pvc storage pool add';
  return formatTable(
    [
      { header: 'NAME', value: (p: PoolView) => p.name },
      { header: 'PGS', value: (p) => p.pgNum, align: 'right' },
      { header: 'SIZE', value: (p) => p.size, align: 'right' },
      { header: 'MIN SIZE', value: (p) => p.minSize, align: 'right' },
      { header: 'VOLUMES', value: (p) => p.volumes, align: 'right' },
      { header: 'STORED', value: (p) => size(p.status?.storedBytes), align: 'right' },
      { header: 'FULL', value: (p) => percent(p.fullnessPercent), align: 'right' },
      { header: 'IN CEPH', value: (p) => (p.status ? p.status.inCeph : null) },
    ],
    pools,
  );
}

export function volumeListTable(volumes: readonly VolumeView[]): string {
  if (volumes.length === 0) return 'no volumes';
  return formatTable(
    [
      { header: 'POOL', value: (v: VolumeView) => v.pool },
      { header: 'NAME', value: (v) => v.name },
      { header: 'SIZE', value: (v) => formatSize(v.sizeBytes), align: 'right' },
      { header: 'PARENT', value: (v) => v.parent },
      { header: 'USED BY', value: (v) => v.usedBy.join(',') },
      { header: 'IN CEPH', value: (v) => (v.status ? v.status.inCeph : null) },
    ],
    volumes,
  );
}

export function volumeInfoText(view: VolumeInfoView): string {
  const fields = formatFields([
    ['volume', `${view.pool}/${view.name}`],
    ['size', `${formatSize(view.sizeBytes)} (${view.sizeBytes} bytes)`],
    ['clone of', view.parent],
    ['used by vms', view.usedBy.join(', ')],
    ['clones', view.clones.join(', ')],
    ['in ceph', view.status ? view.status.inCeph : 'not refreshed yet'],
    ['ceph size', view.status?.inCeph ? formatSize(view.status.sizeBytes) : null],
  ]);
  return view.snapshots.length === 0 ? `${fields}\n\nno snapshots` : `${fields}\n\n${snapshotListTable(view.snapshots)}`;
}

/** PROTECTED is what pvc recorded; CEPH SIZE and IN CEPH are what the last refresh found. */
export function snapshotListTable(snapshots: readonly SnapshotView[]): string {
  if (snapshots.length === 0) return 'no snapshots';
  return formatTable(
    [
      { header: 'SNAPSHOT', value: (s: SnapshotView) => s.name },
      { header: 'PROTECTED', value: (s) => s.protected },
      { header: 'CEPH SIZE', value: (s) => (s.status?.inCeph ? formatSize(s.status.sizeBytes) : null), align: 'right' },
      { header: 'IN CEPH', value: (s) => (s.status ? s.status.inCeph : null) },
    ],
    snapshots,
  );
}

export function osdListTable(osds: readonly OsdStatus[]): string {
  if (osds.length === 0) return 'no osds recorded yet (the primary records them at its next storage refresh)';
  return formatTable(
    [
      { header: 'OSD', value: (o: OsdStatus) => `osd.${o.id}` },
      { header: 'UP', value: (o) => o.up },
      { header: 'IN', value: (o) => o.in },
      { header: 'WEIGHT', value: (o) => o.weight.toFixed(4), align: 'right' },
      { header: 'SIZE', value: (o) => formatSize(o.totalBytes), align: 'right' },
      { header: 'USED', value: (o) => formatSize(o.usedBytes), align: 'right' },
      { header: 'PGS', value: (o) => o.placementGroups, align: 'right' },
    ],
    osds,
  );
}
