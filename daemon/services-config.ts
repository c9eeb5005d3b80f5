// The `services` section of pvcd's config: where the primary's network services (gateways,
// dnsmasq, PowerDNS) keep their state and how they listen. Only coordinators that list the
// `gateways`, `dhcp` or `dns` runnables use it. Part of config.ts, apart for size.
import { isIP } from 'node:net';
import { z } from 'zod';

const ms = (min: number, max: number, fallback: number) => z.number().int().min(min).max(max).default(fallback);
const port = (fallback: number) => z.number().int().min(1).max(65_535).default(fallback);
const address = z.string().refine((s) => isIP(s) !== 0, 'must be an ip address');
const absolutePath = z.string().min(1).refine((p) => p.startsWith('/'), 'must be an absolute path');
/** A named network namespace (`ip netns`): a file name under /run/netns. */
const netnsName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a network namespace name');
const interfaceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, 'must be an interface name of 1-15 characters');

/** dnsmasq refuses leases shorter than two minutes. */
export const MIN_LEASE_TIME_S = 120;

export const ServicesConfigDoc = z
  .strictObject({
    /**
     * Run the services (addresses, dnsmasq, PowerDNS) inside this network namespace; null: in
     * pvcd's own; absent: the namespace of the node's networks (`network.netns`). Tests and the
     * local cluster give each node a namespace while pvcd itself stays where it reaches ZooKeeper.
     */
    netns: netnsName.nullable().optional(),
    /** dnsmasq/<network>/ and pdns/ live here. */
    stateDir: absolutePath.default('/var/lib/pvc/services'),
    /** The device for floating IPs that name none; absent: the node's `network.underlayDevice`. */
    floatingIpDevice: interfaceName.nullable().optional(),
    dhcp: z
      .strictObject({
        leaseTimeS: z.number().int().min(MIN_LEASE_TIME_S).max(31_536_000).default(3_600),
        /** dnsmasq logs every DHCP exchange (log-dhcp) into its log file. */
        logDhcp: z.boolean().default(false),
      })
      .prefault({}),
    dns: z
      .strictObject({
        /** Where PowerDNS answers; dnsmasq forwards pvc's zones to the first. */
        dnsAddresses: z.array(address).min(1).default(['127.0.0.1']),
        dnsPort: port(5300),
        apiAddress: address.default('127.0.0.1'),
        apiPort: port(8081),
        /** A file holding the API key; absent: a random key at every start (only pvcd uses the API). */
        apiKeyFile: absolutePath.optional(),
        recordTtlS: z.number().int().min(0).max(86_400).default(30),
        /** Absent: gsqlite3 with its database under stateDir. Otherwise `launch=` and its settings. */
        backend: z.strictObject({ launch: z.string().regex(/^[a-z0-9,:-]+$/), settings: z.record(z.string(), z.string()).default({}) }).optional(),
        apiTimeoutMs: ms(100, 60_000, 3_000),
      })
      .prefault({}),
  })
  .prefault({});

export type ServicesConfig = z.infer<typeof ServicesConfigDoc>;
