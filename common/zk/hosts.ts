// The connection string of a ZooKeeper ensemble, "host:port[,host:port...]", checked before it
// reaches the ZooKeeper client (which would otherwise retry a typo until a timeout).
import { PvcError } from '../errors.ts';

export interface ZkHost {
  host: string;
  port: number;
}

/** A DNS name (labels of letters, digits and inner hyphens) or a dotted IPv4 address. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const PORT_MAX = 65_535;
/** More servers than any sane ensemble has; a longer list is a pasted mistake. */
export const ZK_HOSTS_MAX = 16;

const USAGE = 'use host:port[,host:port...]';

/** Splits and checks a connection string; throws 'bad-input' naming the wrong part. */
export function parseZkHosts(hosts: string): ZkHost[] {
  const trimmed = hosts.trim();
  if (trimmed === '') throw new PvcError('bad-input', `invalid zookeeper hosts ${JSON.stringify(hosts)}: empty (${USAGE})`);
  const parts = trimmed.split(',').map((part) => part.trim());
  if (parts.length > ZK_HOSTS_MAX) {
    throw new PvcError('bad-input', `invalid zookeeper hosts ${JSON.stringify(hosts)}: ${parts.length} servers, more than ${ZK_HOSTS_MAX}`);
  }
  return parts.map((part) => parseOne(part, hosts));
}

function parseOne(part: string, whole: string): ZkHost {
  const bad = (why: string): PvcError => new PvcError('bad-input', `invalid zookeeper hosts ${JSON.stringify(whole)}: ${why} (${USAGE})`);
  if (part === '') throw bad('empty entry');
  const colon = part.lastIndexOf(':');
  if (colon < 0) throw bad(`${JSON.stringify(part)} has no port`);
  const host = part.slice(0, colon);
  const portText = part.slice(colon + 1);
  // node-zookeeper-client splits on ':' and so cannot take an IPv6 literal; a name can resolve to one.
  if (!HOST_NAME.test(host)) throw bad(`${JSON.stringify(host)} is not a host name or ipv4 address`);
  if (!/^\d{1,5}$/.test(portText)) throw bad(`port ${JSON.stringify(portText)} of ${JSON.stringify(part)} is not a number`);
  const port = Number(portText);
  if (port < 1 || port > PORT_MAX) throw bad(`port ${port} of ${JSON.stringify(part)} is out of range 1-${PORT_MAX}`);
  return { host, port };
}

