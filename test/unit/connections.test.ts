// The CLI's connections file, in a temporary PVC_CONFIG_DIR: add, remove, list, default,
// which connection is resolved, the file's mode, and the errors for wrong values and bad files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addConnection,
  configDir,
  connectionsPath,
  listConnections,
  readConnections,
  removeConnection,
  resolveConnection,
  setDefaultConnection,
  type Connection,
} from '../../common/connections.ts';
import { thrown } from '../helpers/thrown.ts';

let dir: string;
let env: Record<string, string | undefined>;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvc-connections-'));
  env = { PVC_CONFIG_DIR: dir };
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function conn(name: string, extra: Partial<Connection> = {}): Connection {
  return { name, hosts: '127.0.0.1:2181,127.0.0.1:2182', cluster: 'prod', user: 'pvc', password: `secret-${name}`, ...extra };
}


describe('where the file is', () => {
  it('uses PVC_CONFIG_DIR, else XDG_CONFIG_HOME/pvc, else ~/.config/pvc', () => {
    expect(configDir({ PVC_CONFIG_DIR: '/x' })).toBe('/x');
    expect(configDir({ XDG_CONFIG_HOME: '/xdg' })).toBe('/xdg/pvc');
    expect(configDir({})).toBe(path.join(os.homedir(), '.config', 'pvc'));
    expect(connectionsPath({ PVC_CONFIG_DIR: '/x' })).toBe('/x/connections.yaml');
  });
});

describe('add, list, remove, default', () => {
  it('starts empty when there is no file', () => {
    expect(listConnections(env)).toEqual([]);
    expect(readConnections(env)).toEqual({ default: null, connections: [] });
  });

  it('writes the file with mode 0600, makes the first connection the default, and lists without passwords', () => {
    addConnection(conn('lab'), {}, env);
    addConnection(conn('prod', { sessionTimeoutMs: 5_000 }), {}, env);
    expect(fs.statSync(connectionsPath(env)).mode & 0o777).toBe(0o600);
    const list = listConnections(env);
    expect(list).toEqual([
      { name: 'lab', hosts: '127.0.0.1:2181,127.0.0.1:2182', cluster: 'prod', user: 'pvc', default: true },
      { name: 'prod', hosts: '127.0.0.1:2181,127.0.0.1:2182', cluster: 'prod', user: 'pvc', sessionTimeoutMs: 5_000, default: false },
    ]);
    expect(JSON.stringify(list)).not.toContain('secret');
    expect(readConnections(env).connections[1]?.password).toBe('secret-prod');
  });

  it('keeps the file 0600 even under a permissive umask', () => {
    const old = process.umask(0);
    try {
      addConnection(conn('lab'), {}, env);
    } finally {
      process.umask(old);
    }
    expect(fs.statSync(connectionsPath(env)).mode & 0o777).toBe(0o600);
  });

  it('refuses a duplicate unless asked to replace', () => {
    addConnection(conn('lab'), {}, env);
    const error = thrown(() => addConnection(conn('lab', { cluster: 'other' }), {}, env));
    expect(error.code).toBe('refused');
    expect(error.message).toContain('connection lab already exists');
    addConnection(conn('lab', { cluster: 'other' }), { replace: true }, env);
    expect(listConnections(env).map((c) => c.cluster)).toEqual(['other']);
  });

  it('moves the default with makeDefault and setDefaultConnection', () => {
    addConnection(conn('a'), {}, env);
    addConnection(conn('b'), { makeDefault: true }, env);
    expect(readConnections(env).default).toBe('b');
    setDefaultConnection('a', env);
    expect(readConnections(env).default).toBe('a');
    const error = thrown(() => setDefaultConnection('zzz', env));
    expect(error.code).toBe('not-found');
    expect(error.message).toContain('unknown connection "zzz"');
    expect(error.message).toContain('known: a, b');
  });

  it('removes a connection, clearing the default when it was the default', () => {
    addConnection(conn('a'), {}, env);
    addConnection(conn('b'), {}, env);
    removeConnection('a', env);
    expect(readConnections(env)).toEqual({ default: null, connections: [conn('b')] });
    const error = thrown(() => removeConnection('a', env));
    expect(error.code).toBe('not-found');
    expect(error.message).toContain('unknown connection "a"');
  });
});

describe('validation', () => {
  it.each([
    ['host', '"host" has no port'],
    ['host:0', 'port 0 of "host:0" is out of range 1-65535'],
    ['host:65536', 'port 65536 of "host:65536" is out of range'],
    ['host:abc', 'port "abc" of "host:abc" is not a number'],
    ['a:1,,b:2', 'empty entry'],
    ['', 'empty'],
    ['bad_host:2181', '"bad_host" is not a host name'],
    ['h:2181/chroot', 'port "2181/chroot"'],
  ])('refuses hosts %j, naming the wrong part', (hosts, why) => {
    const error = thrown(() => addConnection(conn('lab', { hosts }), {}, env));
    expect(error.code).toBe('bad-input');
    expect(error.message).toContain(`invalid zookeeper hosts ${JSON.stringify(hosts)}`);
    expect(error.message).toContain(why);
    expect(fs.existsSync(connectionsPath(env))).toBe(false);
  });

  it('accepts names, ipv4 addresses and several servers', () => {
    addConnection(conn('lab', { hosts: 'zk1.example.org:2181, 10.0.0.2:2181,localhost:65535' }), {}, env);
    expect(listConnections(env)).toHaveLength(1);
  });

  it('refuses a bad cluster name and a bad connection name', () => {
    const cluster = thrown(() => addConnection(conn('lab', { cluster: 'Prod_1' }), {}, env));
    expect(cluster.code).toBe('bad-input');
    expect(cluster.message).toContain('invalid cluster name "Prod_1"');
    const name = thrown(() => addConnection(conn('My Lab'), {}, env));
    expect(name.message).toContain('invalid connection name "My Lab"');
  });

  it('refuses a session timeout out of range and an empty user, naming the field', () => {
    const timeout = thrown(() => addConnection(conn('lab', { sessionTimeoutMs: 10 }), {}, env));
    expect(timeout.message).toContain('invalid connection sessionTimeoutMs 10');
    const user = thrown(() => addConnection(conn('lab', { user: '' }), {}, env));
    expect(user.message).toContain('invalid connection user ""');
    const colon = thrown(() => addConnection(conn('lab', { user: 'a:b' }), {}, env));
    expect(colon.message).toBe('invalid connection user "a:b": use no colons or spaces');
  });
});

describe('resolveConnection', () => {
  beforeEach(() => {
    for (const name of ['local', 'lab', 'prod']) addConnection(conn(name), {}, env);
    setDefaultConnection('lab', env);
  });

  it('prefers the flag, then PVC_CONNECTION, then the default', () => {
    expect(resolveConnection('prod', { ...env, PVC_CONNECTION: 'local' }).name).toBe('prod');
    expect(resolveConnection(undefined, { ...env, PVC_CONNECTION: 'prod' }).name).toBe('prod');
    expect(resolveConnection(undefined, env).name).toBe('lab');
  });

  it('falls back to the one named local when there is no default', () => {
    removeConnection('lab', env);
    expect(readConnections(env).default).toBeNull();
    expect(resolveConnection(undefined, env).name).toBe('local');
  });

  it('says which name is unknown and where it came from', () => {
    const flag = thrown(() => resolveConnection('nope', env));
    expect(flag.code).toBe('not-found');
    expect(flag.message).toContain('unknown connection "nope" (from --connection)');
    const fromEnv = thrown(() => resolveConnection(undefined, { ...env, PVC_CONNECTION: 'gone' }));
    expect(fromEnv.message).toContain('unknown connection "gone" (from $PVC_CONNECTION)');
  });

  it('says how to add one when nothing can be chosen', () => {
    const error = thrown(() => resolveConnection(undefined, { PVC_CONFIG_DIR: path.join(dir, 'empty') }));
    expect(error.code).toBe('not-found');
    expect(error.message).toContain('pvc connection add');
  });
});

describe('a bad file', () => {
  function writeFile(text: string): void {
    fs.writeFileSync(connectionsPath(env), text, { mode: 0o600 });
  }

  it.each([
    ['not yaml', 'connections: [\n', 'is not valid yaml'],
    ['the wrong shape', 'connections: 3\n', 'is not valid: connections:'],
    ['an unknown field', 'connections: []\nextra: 1\n', 'is not valid'],
    ['a bad connection', 'connections:\n  - name: lab\n    hosts: nohost\n    cluster: prod\n    user: pvc\n    password: x\n', 'connections.0.hosts'],
    ['a duplicate', `connections:\n${'  - {name: a, hosts: "h:1", cluster: c, user: u, password: p}\n'.repeat(2)}`, 'appears twice'],
    ['a dangling default', 'default: zz\nconnections: []\n', 'default: names "zz"'],
  ])('is refused when it holds %s, naming the file', (_what, text, why) => {
    writeFile(text);
    const error = thrown(() => listConnections(env));
    expect(error.code).toBe('corrupt');
    expect(error.message).toContain(connectionsPath(env));
    expect(error.message).toContain(why);
  });

  it('is read as empty when it is empty', () => {
    writeFile('');
    expect(listConnections(env)).toEqual([]);
  });
});
