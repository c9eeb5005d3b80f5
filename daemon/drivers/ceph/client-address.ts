// The IP inside a Ceph client address, as `rbd status` (watchers) and `rbd lock ls` (lockers)
// print it and `ceph osd blocklist add` takes it: `ip:port/nonce`, with an optional messenger
// prefix (`v1:`, `v2:`, `any:`) and IPv6 in brackets (`v2:[fd00::1]:0/123`). An address vector
// (`[v2:...,v1:...]`) names one client on several protocols; its first entry is read.
//
// The IP is what ties a client to a node (NodeStatus.cephClientIp); the nonce tells the
// processes of one host apart and is not needed for that.
import { canonicalIp } from '../../../common/net/ip.ts';

const ENTRY = /^(?:(?:v1|v2|any):)?(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):\d{1,5}(?:\/\d+)?$/;

/** The canonical IP of a client address; null when the text is not one. */
export function cephClientIpOf(address: string): string | null {
  const text = address.trim();
  const entry = text.startsWith('[') && text.endsWith(']') ? (text.slice(1, -1).split(',')[0] ?? '') : text;
  const match = ENTRY.exec(entry);
  const ip = match?.[1] ?? match?.[2];
  return ip === undefined ? null : canonicalIp(ip);
}
