// The IP this node's Ceph clients connect from, which pvcd publishes (NodeStatus.cephClientIp)
// so that every node can tell whose an RBD lock or watcher is. The config's
// `ceph.clientAddress` wins; else it is the source of the route to the first monitor that
// ceph.conf names by address, which is the address a client's connections leave from.
//
// Not finding it only weakens the holder check back to the node the VM last ran on
// (reconcile/rbd-access-plan.ts), so every failure here is a warning, never a pvcd exit.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.ts';
import { canonicalIp } from '../../common/net/ip.ts';
import type { PvcdConfig } from '../config.ts';
import { monitorsFromCephConf } from '../drivers/ceph/mon-host.ts';
import { routeSourceTo } from '../drivers/links/route-source.ts';

type CephConfig = NonNullable<PvcdConfig['ceph']>;

/** The local source address towards an IP; null when the route names none. */
export type RouteSourceLookup = (destination: string) => Promise<string | null>;

export async function findCephClientIp(config: CephConfig, log: Logger, lookup: RouteSourceLookup = routeSourceTo): Promise<string | null> {
  if (config.clientAddress !== undefined) return config.clientAddress;
  // The simulated Ceph's clients are on no network (all 127.0.0.1); a route means nothing there.
  if (config.driver === 'sim') return null;
  let monitor: string | undefined;
  try {
    const monitors = monitorsFromCephConf(readFileSync(config.conf, 'utf8'), config.conf);
    monitor = monitors.map((m) => canonicalIp(m.host)).find((ip): ip is string => ip !== null);
  } catch (error) {
    log.warn({ err: errorMessage(error) }, 'cannot read the ceph monitors to find this node\'s ceph client ip; not published (set ceph.clientAddress)');
    return null;
  }
  if (monitor === undefined) {
    log.warn({ conf: config.conf }, 'ceph.conf names no monitor by ip address; this node\'s ceph client ip is not published (set ceph.clientAddress)');
    return null;
  }
  try {
    const source = await lookup(monitor);
    if (source === null) log.warn({ monitor }, 'the route to the ceph monitor has no source address; this node\'s ceph client ip is not published (set ceph.clientAddress)');
    return source;
  } catch (error) {
    log.warn({ monitor, err: errorMessage(error) }, 'cannot find the route to the ceph monitor; this node\'s ceph client ip is not published (set ceph.clientAddress)');
    return null;
  }
}
