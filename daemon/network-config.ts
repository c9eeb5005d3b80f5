// The `network` section of pvcd's config: how this node takes part in pvc's networks (its
// interfaces, FRR, the firewall). Part of config.ts, apart for size. The default driver `none`
// leaves networking alone, as before networks existed.
import { z } from 'zod';
import { ipFamilyOf } from '../common/net/ip.ts';

/** real: iproute2, FRR and nft on this machine; sim: in-process simulations (tests without root); none: no networking. */
export const NETWORK_DRIVERS = ['real', 'sim', 'none'] as const;

const absolutePath = z.string().min(1).refine((p) => p.startsWith('/'), 'must be an absolute path');
/** A named network namespace (`ip netns`): a file name under /run/netns. */
const netnsName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a network namespace name');
const interfaceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, 'must be an interface name of 1-15 characters');
const address = z.string().refine((s) => ipFamilyOf(s) !== null, 'must be an ipv4 or canonical ipv6 address');

export const NetworkConfigDoc = z
  .strictObject({
    driver: z.enum(NETWORK_DRIVERS).default('none'),
    /**
     * Manage the interfaces, FRR and firewall of this named network namespace; null: pvcd's own.
     * Tests and the local cluster give each node a namespace while pvcd stays where it reaches
     * ZooKeeper (all calls go through `ip -n NS` / `ip netns exec NS`).
     */
    netns: netnsName.nullable().default(null),
    /** The underlay NIC (VXLAN traffic, BGP); its MTU less the VXLAN overhead is a network's default MTU. */
    underlayDevice: interfaceName.nullable().default(null),
    /** This node's address on the underlay: the local end of every VXLAN and the BGP router id. Null: no managed networks here. */
    vtepAddress: address.nullable().default(null),
    /** The device of bridged (VLAN) networks that name none. */
    bridgedDevice: interfaceName.nullable().default(null),
    /** FRR (zebra + bgpd) for BGP EVPN; null: this node runs no FRR (its VXLANs learn no remote MACs). */
    frr: z
      .strictObject({
        /** Config files, pid files, sockets and logs of this node's daemons (given to user frr). */
        stateDir: absolutePath.default('/var/lib/pvc/frr'),
        binDir: absolutePath.default('/usr/lib/frr'),
        user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user name').default('frr'),
      })
      .nullable()
      .default(null),
    /** Apply the managed networks' firewall (table inet pvc). */
    firewall: z.boolean().default(true),
  })
  .prefault({});

export type NetworkConfig = z.infer<typeof NetworkConfigDoc>;
