// The monitors of a Ceph cluster as its ceph.conf names them (`mon host`), in the form libvirt's
// RBD disk XML wants: one <host name=... port=.../> per monitor, on the v1 (legacy) protocol
// port, which is what librbd assumes for a bare ip:port in QEMU's mon_host option.
//
// Ceph accepts several spellings, all handled here: `mon host`, `mon_host` or `mon-host`, with
// values such as `[v2:10.0.0.1:3300,v1:10.0.0.1:6789] [v2:...]`, `10.0.0.1,10.0.0.2` or
// `10.0.0.1:6789 10.0.0.2:6789`. IPv6 monitor addresses are not handled (none exist here).
import { PvcError } from '../../../common/errors.ts';

export interface MonitorAddress {
  host: string;
  port: number;
}

/** Ceph's default v1 monitor port. */
export const CEPH_MON_V1_PORT = 6789;

export function monitorsFromCephConf(confText: string, confPath: string): MonitorAddress[] {
  const value = monHostValue(confText);
  if (value === null) throw new PvcError('bad-input', `ceph config ${confPath} has no "mon host" line`);
  const monitors = splitOutsideBrackets(value).map((item) => monitorOf(item, confPath));
  if (monitors.length === 0) throw new PvcError('bad-input', `ceph config ${confPath}: "mon host" names no monitor`);
  return monitors;
}

function monHostValue(confText: string): string | null {
  let section = '';
  for (const raw of confText.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1]) {
      section = header[1].trim();
      continue;
    }
    const match = /^mon[ _-]host\s*=\s*(.+)$/.exec(line);
    if (match?.[1] && (section === 'global' || section === '')) return match[1].trim();
  }
  return null;
}

/** Splits on commas and spaces that are not inside [...] address vectors. */
function splitOutsideBrackets(value: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of value) {
    if (char === '[') depth += 1;
    if (char === ']') depth -= 1;
    if ((char === ',' || char === ' ' || char === '\t') && depth === 0) {
      if (current) items.push(current);
      current = '';
    } else current += char;
  }
  if (current) items.push(current);
  return items;
}

function monitorOf(item: string, confPath: string): MonitorAddress {
  if (item.startsWith('[')) {
    const entries = item.slice(1, -1).split(',');
    const v1 = entries.find((e) => e.startsWith('v1:'));
    if (v1) return hostPort(v1.slice(3), confPath);
    const any = entries[0] ?? '';
    return { host: hostPort(any.replace(/^v2:/, ''), confPath).host, port: CEPH_MON_V1_PORT };
  }
  return hostPort(item.replace(/^v1:/, ''), confPath);
}

function hostPort(text: string, confPath: string): MonitorAddress {
  const match = /^([A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\/\d+)?$/.exec(text);
  if (!match?.[1]) throw new PvcError('bad-input', `ceph config ${confPath}: cannot read monitor address ${JSON.stringify(text)}`);
  const port = match[2] === undefined ? CEPH_MON_V1_PORT : Number(match[2]);
  if (port < 1 || port > 65_535) throw new PvcError('bad-input', `ceph config ${confPath}: monitor port ${port} is out of range`);
  return { host: match[1], port };
}
