// pvcd's configuration: a YAML file, then command-line flags on top. Everything is validated
// before pvcd touches ZooKeeper, so a bad file changes nothing and names the wrong value.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PvcError, errorMessage } from '../common/errors.ts';
import { NAME_PATTERN, NAME_RULE } from '../common/names.ts';
import { ipFamilyOf } from '../common/net/ip.ts';
import { parseZkHosts } from '../common/zk/hosts.ts';
import { NODE_ROLES } from '../common/zk/schema.ts';
import { LEASE_SHARE_OF_SESSION } from './runtime/primary-lease.ts';
import { RBD_HOLDER_WAIT_LIMIT_MS } from './runtime/rbd-guard.ts';
import { BmcConfigDoc, HaConfigDoc, checkSelfFenceBound } from './ha-config.ts';
import { NETWORK_SERVICE_RUNNABLES } from './coordinator/network-service-names.ts';
import { ServicesConfigDoc } from './services-config.ts';
import { NetworkConfigDoc } from './network-config.ts';

const name = z.string().regex(NAME_PATTERN, NAME_RULE);
const hosts = z.string().superRefine((value, ctx) => {
  try {
    parseZkHosts(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: errorMessage(error) });
  }
});
const ms = (min: number, max: number, fallback: number) => z.number().int().min(min).max(max).default(fallback);

export const RUNNABLE_NAMES = ['primary-journal', 'placement', 'fencing', 'storage-status', ...NETWORK_SERVICE_RUNNABLES] as const;
export const HYPERVISOR_DRIVERS = ['libvirt', 'sim'] as const;
export const CEPH_DRIVERS = ['real', 'sim'] as const;
/** Any fixed uuid does: it only has to be the same on every node of a cluster. */
export const DEFAULT_CEPH_SECRET_UUID = '5ec7e7a1-0000-4000-8000-00000000ce9f';

const ConfigDoc = z.strictObject({
  cluster: name,
  node: name,
  role: z.enum(NODE_ROLES),
  zookeeper: z
    .strictObject({
      hosts,
      user: z.string().min(1),
      password: z.string().min(1).optional(),
      passwordFile: z.string().min(1).optional(),
      /**
       * The daemons' own identity (docs/zk-schema.md "ACLs"): pvcd adds it to its session and
       * stores the BMC password readable by it alone, so a CLI with `user` cannot read it.
       */
      daemonUser: z.string().min(1).optional(),
      daemonPassword: z.string().min(1).optional(),
      daemonPasswordFile: z.string().min(1).optional(),
    })
    .refine((zk) => (zk.password === undefined) !== (zk.passwordFile === undefined), 'set exactly one of password and passwordFile')
    .refine((zk) => zk.daemonUser !== undefined || (zk.daemonPassword === undefined && zk.daemonPasswordFile === undefined), {
      message: 'daemonPassword and daemonPasswordFile need daemonUser',
      path: ['daemonUser'],
    })
    .refine((zk) => zk.daemonUser === undefined || (zk.daemonPassword === undefined) !== (zk.daemonPasswordFile === undefined), {
      message: 'with daemonUser set exactly one of daemonPassword and daemonPasswordFile',
      path: ['daemonUser'],
    })
    .refine((zk) => zk.daemonUser === undefined || zk.daemonUser !== zk.user, { message: 'must differ from zookeeper.user', path: ['daemonUser'] }),
  timeouts: z
    .strictObject({
      /** ZooKeeper session timeout; also bounds how fast a dead primary is replaced. */
      sessionTimeoutMs: ms(1_000, 60_000, 4_000),
      connectTimeoutMs: ms(100, 120_000, 10_000),
      requestTimeoutMs: ms(100, 60_000, 5_000),
      keepaliveIntervalMs: ms(100, 60_000, 1_000),
      /** Every controller re-reads everything this often, whatever the watches said. */
      resyncIntervalMs: ms(100, 600_000, 5_000),
      /**
       * How long one primary runnable may take to stop. All of them must stop between the end of
       * the primary lease and the end of the session (see primary-lease.ts), so the sum is
       * checked against that margin below.
       */
      runnableStopTimeoutMs: z.number().int().min(50).max(60_000).optional(),
      /** The primary's storage-status runnable asks Ceph for pool, volume and OSD status this often. */
      storageStatusIntervalMs: ms(1_000, 3_600_000, 10_000),
      /** One storage refresh's Ceph calls together; past it the refresh is recorded as failed. */
      storageRefreshTimeoutMs: ms(1_000, 600_000, 30_000),
      /** A clean shutdown (handover included) that takes longer than this ends in a plain exit. */
      shutdownTimeoutMs: ms(1_000, 300_000, 30_000),
    })
    .prefault({}),
  coordinator: z
    .strictObject({
      runnables: z.array(z.enum(RUNNABLE_NAMES)).default([]),
      primaryJournal: z.strictObject({ path: z.string().min(1), tickIntervalMs: ms(10, 60_000, 100) }).optional(),
    })
    .prefault({}),
  /** The node's hypervisor; absent: this node runs no VMs (placement skips it). */
  hypervisor: z
    .strictObject({
      /** libvirt through virsh, or the simulated world of test/helpers/sim-world-server.ts. */
      driver: z.enum(HYPERVISOR_DRIVERS),
      /** libvirt: this node's connection URI; sim: the sim world's URL. */
      uri: z.string().min(1),
      /** How other nodes' libvirtd reach this one for peer-to-peer migration; default: uri. */
      peerUri: z.string().min(1).optional(),
      /** Where QEMU sends memory when migrating to this node, e.g. tcp://10.0.0.5:49152. */
      migrateUri: z.string().min(1).nullable().default(null),
      /** Serial console logs of this node's VMs (`pvc vm log` reads them). */
      consoleLogDir: z.string().min(1).refine((p) => p.startsWith('/'), 'must be an absolute path'),
      /** A guest gets this long after the ACPI power button before it is destroyed. */
      shutdownTimeoutMs: ms(0, 3_600_000, 30_000),
    })
    .optional(),
  /**
   * How this node reaches Ceph; absent: no Ceph here (VMs with RBD disks cannot run here, and the
   * storage runnables cannot run). Shared by the node's VM disks and the primary's storage work.
   */
  ceph: z
    .strictObject({
      /** The ceph and rbd CLIs, or the in-process simulation (tests). */
      driver: z.enum(CEPH_DRIVERS).default('real'),
      /** ceph.conf of the cluster; its `mon host` line also gives libvirt the monitors. */
      conf: z.string().min(1).refine((p) => p.startsWith('/'), 'must be an absolute path'),
      /** cephx client id (client.<id>). */
      id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a cephx client id such as admin').default('admin'),
      /** Keyring of that client; default: the keyring ceph.conf names. */
      keyring: z.string().min(1).refine((p) => p.startsWith('/'), 'must be an absolute path').optional(),
      /** The uuid of libvirt's ceph secret on every node; domain XML names it. */
      secretUuid: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lowercase uuid').default(DEFAULT_CEPH_SECRET_UUID),
      /** How long a VM start waits for another live node to let go of its RBD volumes before it fails. */
      holderWaitLimitMs: ms(0, 600_000, RBD_HOLDER_WAIT_LIMIT_MS),
      /**
       * The IP this node's Ceph clients connect from, published for the other nodes' RBD holder
       * check; default: the source of the route to the first monitor (`ip route get`).
       */
      clientAddress: z.string().refine((s) => ipFamilyOf(s) !== null, 'must be an ipv4 or canonical ipv6 address').optional(),
    })
    .optional(),
  /** This node's BMC, published for the primary's fencer; absent: the node cannot be powered off. */
  bmc: BmcConfigDoc.optional(),
  /** Failure detection, fencing and self-fencing (daemon/ha-config.ts). */
  ha: HaConfigDoc,
  /** The primary's network services: gateways, dnsmasq, PowerDNS (daemon/services-config.ts). */
  services: ServicesConfigDoc,
  /** This node's part in pvc's networks: interfaces, FRR, firewall (daemon/network-config.ts). */
  network: NetworkConfigDoc,
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

export type PvcdConfig = z.infer<typeof ConfigDoc> & { zookeeper: { password: string }; timeouts: { runnableStopTimeoutMs: number } };

export const PVCD_USAGE = `usage: pvcd --config FILE [--cluster NAME] [--node NAME] [--role coordinator|hypervisor]
            [--zk-hosts HOST:PORT,...] [--log-level LEVEL]

pvcd is the pvc node daemon. It registers this node in the cluster's ZooKeeper, writes its
keepalive, and on coordinators takes part in electing the primary. Flags override the file.`;

/** Reads flags and the config file; throws PvcError('bad-input') naming what is wrong. */
export function loadConfig(argv: readonly string[]): PvcdConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        cluster: { type: 'string' },
        node: { type: 'string' },
        role: { type: 'string' },
        'zk-hosts': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new PvcError('bad-input', `${errorMessage(error).toLowerCase()}\n${PVCD_USAGE}`);
  }
  const flags = parsed.values;
  if (flags.help) return 'help';
  if (!flags.config) throw new PvcError('bad-input', `missing --config FILE\n${PVCD_USAGE}`);

  const file = readConfigFile(flags.config);
  const merged: Record<string, unknown> = { ...file };
  if (flags.cluster !== undefined) merged.cluster = flags.cluster;
  if (flags.node !== undefined) merged.node = flags.node;
  if (flags.role !== undefined) merged.role = flags.role;
  if (flags['log-level'] !== undefined) merged.logLevel = flags['log-level'];
  if (flags['zk-hosts'] !== undefined) merged.zookeeper = { ...(file.zookeeper as object | undefined), hosts: flags['zk-hosts'] };
  return validateConfig(merged, flags.config);
}

export function validateConfig(raw: unknown, source: string): PvcdConfig {
  const result = ConfigDoc.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const where = issue.path.map(String).join('.') || '(top level)';
      // Secrets are never echoed back.
      const value = issue.path.some((key) => /password/i.test(String(key))) ? undefined : valueAt(raw, issue.path);
      return `${where}: ${issue.message}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`;
    });
    throw new PvcError('bad-input', `invalid pvcd config ${source}: ${problems.join('; ')}`);
  }
  const config = result.data;
  if (config.coordinator.runnables.includes('storage-status') && !config.ceph) {
    throw new PvcError('bad-input', `invalid pvcd config ${source}: the storage-status runnable needs a ceph section (driver, conf, id)`);
  }
  if (config.coordinator.runnables.includes('primary-journal') && !config.coordinator.primaryJournal) {
    throw new PvcError('bad-input', `invalid pvcd config ${source}: coordinator.primaryJournal.path is required when the primary-journal runnable is enabled`);
  }
  if (config.role === 'hypervisor' && config.coordinator.runnables.length > 0) {
    throw new PvcError('bad-input', `invalid pvcd config ${source}: coordinator.runnables is set but role is "hypervisor"`);
  }
  if (config.bmc && config.zookeeper.daemonUser === undefined) {
    // The BMC password can power any node off: it is stored readable by the daemons' identity
    // alone, never by the cluster identity the CLI and API share.
    throw new PvcError('bad-input', `invalid pvcd config ${source}: bmc needs zookeeper.daemonUser (with daemonPassword or daemonPasswordFile): the bmc password is stored readable by the daemons' own zookeeper identity only, never by the cli's`);
  }
  checkSelfFenceBound(config, source);
  const runnableStopTimeoutMs = runnableStopBudget(config, source);
  const password = config.zookeeper.password ?? readPasswordFile(config.zookeeper.passwordFile as string, source, 'passwordFile');
  const { daemonUser, daemonPasswordFile } = config.zookeeper;
  const daemonPassword = daemonUser === undefined ? undefined : (config.zookeeper.daemonPassword ?? readPasswordFile(daemonPasswordFile as string, source, 'daemonPasswordFile'));
  return { ...config, timeouts: { ...config.timeouts, runnableStopTimeoutMs }, zookeeper: { ...config.zookeeper, password, daemonPassword } };
}

/**
 * Every runnable must have stopped between the end of the primary lease and the end of the
 * session (see runtime/primary-lease.ts). Unset, each runnable gets an equal share of that
 * margin; set, the per-runnable timeout must fit in it.
 */
function runnableStopBudget(config: z.infer<typeof ConfigDoc>, source: string): number {
  const marginMs = Math.floor(config.timeouts.sessionTimeoutMs * (1 - LEASE_SHARE_OF_SESSION));
  const count = Math.max(1, config.coordinator.runnables.length);
  const asked = config.timeouts.runnableStopTimeoutMs;
  if (asked === undefined) return Math.floor(marginMs / count);
  if (asked * count > marginMs) {
    throw new PvcError(
      'bad-input',
      `invalid pvcd config ${source}: timeouts.runnableStopTimeoutMs ${asked} x ${count} runnables = ${asked * count} ms does not fit in the ${marginMs} ms between the primary lease's end and the session's (timeouts.sessionTimeoutMs ${config.timeouts.sessionTimeoutMs})`,
    );
  }
  return asked;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new PvcError('bad-input', `cannot read pvcd config ${path}: ${errorMessage(error)}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new PvcError('bad-input', `pvcd config ${path} is not valid YAML: ${errorMessage(error)}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PvcError('bad-input', `pvcd config ${path} must be a YAML mapping`);
  }
  return doc as Record<string, unknown>;
}

function readPasswordFile(path: string, source: string, key: 'passwordFile' | 'daemonPasswordFile'): string {
  try {
    const password = readFileSync(path, 'utf8').trim();
    if (password) return password;
  } catch (error) {
    throw new PvcError('bad-input', `invalid pvcd config ${source}: cannot read zookeeper.${key} ${path}: ${errorMessage(error)}`);
  }
  throw new PvcError('bad-input', `invalid pvcd config ${source}: zookeeper.${key} ${path} is empty`);
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = raw;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current === null || typeof current === 'object' ? undefined : current;
}
