// The CLI's saved connections: $PVC_CONFIG_DIR/connections.yaml (default
// ${XDG_CONFIG_HOME:-~/.config}/pvc), mode 0600 because it holds ZooKeeper digest passwords.
// Validated with zod on every read and write; written to a temporary file and renamed, so a
// crash never leaves half a file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { PvcError, errorMessage } from './errors.ts';
import { assertName, isValidName } from './names.ts';
import { parseZkHosts } from './zk/hosts.ts';

export const CONNECTIONS_FILE_NAME = 'connections.yaml';
/** The connection used when nothing else names one. */
export const FALLBACK_CONNECTION = 'local';
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** A connections file past this size is not one we wrote. */
const FILE_MAX_BYTES = 1024 * 1024;
/** ZooKeeper clamps session timeouts to 2..20 ticks; these bounds catch unit mistakes (s vs ms). */
export const SESSION_TIMEOUT_MIN_MS = 1_000;
export const SESSION_TIMEOUT_MAX_MS = 600_000;

type Env = Readonly<Record<string, string | undefined>>;

const nameField = z.string().refine(isValidName, 'use 1-63 lowercase letters, digits and inner hyphens');

const hostsField = z.string().superRefine((value, ctx) => {
  try {
    parseZkHosts(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: errorMessage(error) });
  }
});

const absolutePath = z.string().min(1).max(4096).refine((p) => path.isAbsolute(p), 'must be an absolute path');

/**
 * How `pvc storage` reaches Ceph (the ceph and rbd programs read these): the cluster's ceph.conf,
 * the cephx client id (without `client.`), and its keyring when ceph.conf does not name it.
 */
export const CephAccessDoc = z.strictObject({
  conf: absolutePath,
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'use 1-64 letters, digits, ".", "_" and "-" (the id without "client.")'),
  keyring: absolutePath.optional(),
});
export type CephAccess = z.infer<typeof CephAccessDoc>;
export const DEFAULT_CEPH_ID = 'admin';

export const ConnectionDoc = z.strictObject({
  name: nameField,
  hosts: hostsField,
  cluster: nameField,
  // ZooKeeper's digest scheme joins user and password with ':', so a colon cannot be in a user.
  user: z.string().min(1).max(256).regex(/^[^:\s]+$/, 'use no colons or spaces'),
  password: z.string().max(1024),
  sessionTimeoutMs: z.number().int().min(SESSION_TIMEOUT_MIN_MS).max(SESSION_TIMEOUT_MAX_MS).optional(),
  /** Absent: the storage commands that need Ceph refuse, saying how to add it. */
  ceph: CephAccessDoc.optional(),
});
export type Connection = z.infer<typeof ConnectionDoc>;

export const ConnectionsFileDoc = z
  .strictObject({
    default: nameField.nullable().optional(),
    connections: z.array(ConnectionDoc).max(1_000),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    for (const c of file.connections) {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', message: `connection ${JSON.stringify(c.name)} appears twice` });
      seen.add(c.name);
    }
    if (file.default != null && !seen.has(file.default)) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: `names ${JSON.stringify(file.default)}, which is not a connection` });
    }
  });
export type ConnectionsFile = z.infer<typeof ConnectionsFileDoc>;

/** A connection as shown to people: everything but the password. */
export type ConnectionSummary = Omit<Connection, 'password'> & { default: boolean };

export function configDir(env: Env = process.env): string {
  if (env.PVC_CONFIG_DIR) return env.PVC_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'pvc');
}

export function connectionsPath(env: Env = process.env): string {
  return path.join(configDir(env), CONNECTIONS_FILE_NAME);
}

/** The file's contents; an empty set when the file does not exist yet. */
export function readConnections(env: Env = process.env): ConnectionsFile {
  const file = connectionsPath(env);
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > FILE_MAX_BYTES) throw new PvcError('corrupt', `connections file ${file} is ${size} bytes, more than ${FILE_MAX_BYTES}`);
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { default: null, connections: [] };
    if (error instanceof PvcError) throw error;
    throw new PvcError('bad-input', `cannot read connections file ${file}: ${errorMessage(error)}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new PvcError('corrupt', `connections file ${file} is not valid yaml: ${errorMessage(error).split('\n')[0]}`);
  }
  const parsed = ConnectionsFileDoc.safeParse(raw ?? { connections: [] });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(file)'}: ${i.message}`).join('; ');
    throw new PvcError('corrupt', `connections file ${file} is not valid: ${issues}`);
  }
  return parsed.data;
}

export function writeConnections(contents: ConnectionsFile, env: Env = process.env): void {
  const valid = ConnectionsFileDoc.parse(contents); // a programmer error if this throws: callers validate first
  const dir = configDir(env);
  const file = connectionsPath(env);
  fs.mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const temp = `${file}.${process.pid}.tmp`;
  const header = '# pvc connections; holds zookeeper passwords: keep it mode 0600\n';
  try {
    fs.writeFileSync(temp, header + stringifyYaml(valid), { mode: FILE_MODE });
    fs.chmodSync(temp, FILE_MODE); // the umask may have taken bits away; never added, but be exact
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw new PvcError('bad-input', `cannot write connections file ${file}: ${errorMessage(error)}`);
  }
}

/** Checks a connection given by a person; throws 'bad-input' naming the wrong field and value. */
export function validateConnection(input: Connection): Connection {
  assertName('connection', input.name);
  parseZkHosts(input.hosts);
  assertName('cluster', input.cluster);
  const parsed = ConnectionDoc.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') ?? '(connection)';
    const found = issue?.path.reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined), input);
    const value = issue && field !== 'password' && found !== undefined ? ` ${JSON.stringify(found)}` : '';
    throw new PvcError('bad-input', `invalid connection ${field}${value}: ${issue?.message ?? 'not valid'}`);
  }
  return parsed.data;
}

export interface AddOptions {
  /** Overwrite a connection of the same name instead of refusing. */
  replace?: boolean;
  /** Make it the default (the first connection added becomes the default anyway). */
  makeDefault?: boolean;
}

export function addConnection(input: Connection, options: AddOptions = {}, env: Env = process.env): Connection {
  const connection = validateConnection(input);
  const file = readConnections(env);
  const index = file.connections.findIndex((c) => c.name === connection.name);
  if (index >= 0 && !options.replace) {
    throw new PvcError('refused', `connection ${connection.name} already exists in ${connectionsPath(env)}; remove it first or replace it`);
  }
  const connections = [...file.connections];
  if (index >= 0) connections[index] = connection;
  else connections.push(connection);
  const makeDefault = options.makeDefault || file.default == null;
  writeConnections({ default: makeDefault ? connection.name : file.default, connections }, env);
  return connection;
}

export function removeConnection(name: string, env: Env = process.env): void {
  const file = readConnections(env);
  if (!file.connections.some((c) => c.name === name)) throw unknownConnection(name, 'to remove', file, env);
  writeConnections(
    { default: file.default === name ? null : file.default, connections: file.connections.filter((c) => c.name !== name) },
    env,
  );
}

export function setDefaultConnection(name: string, env: Env = process.env): void {
  const file = readConnections(env);
  if (!file.connections.some((c) => c.name === name)) throw unknownConnection(name, 'to make default', file, env);
  writeConnections({ ...file, default: name }, env);
}

export function listConnections(env: Env = process.env): ConnectionSummary[] {
  const file = readConnections(env);
  return file.connections.map(({ password: _password, ...rest }) => ({ ...rest, default: rest.name === file.default }));
}

/**
 * The connection to use: `--connection NAME` > $PVC_CONNECTION > the file's default > the one
 * named `local`. A name given explicitly must exist; there is no silent fallback past it.
 */
export function resolveConnection(flag: string | undefined, env: Env = process.env): Connection {
  const file = readConnections(env);
  const chosen: Array<[string | null | undefined, string]> = [
    [flag, 'from --connection'],
    [env.PVC_CONNECTION, 'from $PVC_CONNECTION'],
    [file.default, 'the default'],
  ];
  for (const [name, source] of chosen) {
    if (name == null || name === '') continue;
    const found = file.connections.find((c) => c.name === name);
    if (!found) throw unknownConnection(name, source, file, env);
    return found;
  }
  const local = file.connections.find((c) => c.name === FALLBACK_CONNECTION);
  if (local) return local;
  throw new PvcError(
    'not-found',
    `no connection chosen and none named ${FALLBACK_CONNECTION} in ${connectionsPath(env)}; add one with: pvc connection add NAME --hosts HOST:PORT --cluster CLUSTER --user USER --password-file FILE`,
  );
}

function unknownConnection(name: string, source: string, file: ConnectionsFile, env: Env): PvcError {
  const known = file.connections.map((c) => c.name);
  const listing = known.length ? `known: ${known.join(', ')}` : 'none saved yet';
  return new PvcError('not-found', `unknown connection ${JSON.stringify(name)} (${source}) in ${connectionsPath(env)}; ${listing}`);
}
