// A bare node-zookeeper-client for tests that must act as someone other than ZkStore: an
// intruder without credentials, a client with the wrong password, or a writer of corrupt values.
// Tests may import the raw client; common/ code goes through common/zk/store.ts only.
import zookeeper from 'node-zookeeper-client';
import type { ZkAuth } from '../../common/zk/store.ts';

const CONNECT_TIMEOUT_MS = 10_000;
/** world:anyone may do anything: the raw client creates nodes nobody guards. */
const OPEN_ACL = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('world', 'anyone'))];
const REQUEST_TIMEOUT_MS = 10_000;

export interface RawZk {
  getData(path: string): Promise<Buffer | undefined>;
  setData(path: string, data: Buffer): Promise<void>;
  create(path: string, data: Buffer): Promise<string>;
  getChildren(path: string): Promise<string[]>;
  /** exists() is not subject to ACLs: it shows whether this client's server has the node yet. */
  exists(path: string): Promise<boolean>;
  close(): void;
}

/** The ZooKeeper error name of a rejection (NO_AUTH, NO_NODE, ...), or null for anything else. */
export function zkErrorName(error: unknown): string | null {
  return error instanceof zookeeper.Exception ? error.getName() : null;
}

export async function connectRaw(hosts: string, auth?: ZkAuth): Promise<RawZk> {
  const client = zookeeper.createClient(hosts, { sessionTimeout: 4_000, spinDelay: 100, retries: 0 });
  if (auth) client.addAuthInfo('digest', Buffer.from(`${auth.user}:${auth.password}`));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`raw client: cannot reach zookeeper at ${hosts} within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  const call = <R>(what: string, run: (cb: (error: unknown, result?: R) => void) => void): Promise<R> =>
    new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw client: ${what} got no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
      run((error, result) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(result as R);
      });
    });
  return {
    getData: (path) => call(`getData ${path}`, (cb) => client.getData(path, (e, data) => cb(e, data))),
    setData: (path, data) => call(`setData ${path}`, (cb) => client.setData(path, data, -1, (e) => cb(e))),
    create: (path, data) =>
      call(`create ${path}`, (cb) => client.create(path, data, OPEN_ACL, zookeeper.CreateMode.PERSISTENT, (e, p) => cb(e, p))),
    getChildren: (path) => call(`getChildren ${path}`, (cb) => client.getChildren(path, (e, children) => cb(e, children))),
    exists: (path) => call(`exists ${path}`, (cb) => client.exists(path, (e, stat) => cb(e, Boolean(stat)))),
    close: () => client.close(),
  };
}
