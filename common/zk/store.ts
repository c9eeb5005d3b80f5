// The one door to ZooKeeper: the only file that imports node-zookeeper-client.
// It adds what the raw client lacks: typed, validated values (through schema.ts refs), digest
// ACLs on everything created, a timeout on every call, compare-and-set with retries, multi-op
// transactions, watches that re-arm, and a new session (with ephemerals re-created and
// watches re-armed) after the old one expires.
import { EventEmitter } from 'node:events';
import zookeeper from 'node-zookeeper-client';
import './receive-buffer-fix.ts';
import { PvcError, errorMessage } from '../errors.ts';
import type { ZRef } from './schema.ts';
import { decode, encode } from './codec.ts';
import { Transaction, type CreateKind, type TxOp } from './transaction.ts';
import { digestId, notAuthorized, type NodeAcl, type ZkAuth } from './auth.ts';

export { Transaction, digestId, type CreateKind, type TxOp, type NodeAcl, type ZkAuth };

const { ACL, Id, Permission, CreateMode, Exception } = zookeeper;

export interface StoreOptions {
  /** host:port[,host:port...] */
  hosts: string;
  auth: ZkAuth;
  /** pvcd's own identity, added beside `auth`: alone in the ACL of 'daemon' nodes (else they get the cluster ACL). */
  daemonAuth?: ZkAuth;
  sessionTimeoutMs: number;
  /** How long to wait for the first session before saying ZooKeeper is unreachable. */
  connectTimeoutMs: number;
  /** How long any single request may take. */
  requestTimeoutMs: number;
  /** Called with operating events worth a log line (session changes, re-creation failures). */
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

export type WatchKind = 'data' | 'children' | 'exists';

export interface Versioned<T> {
  value: T;
  version: number;
}

export interface NodeStat {
  version: number;
  /** Hex session id of the owner of an ephemeral node, '0' for a persistent one. */
  ephemeralOwner: string;
}

/** ZooKeeper's own error names, as used by the callers that must tell them apart. */
export type ZkCode = 'NO_NODE' | 'NODE_EXISTS' | 'BAD_VERSION' | 'NOT_EMPTY' | 'NO_AUTH' | 'CONNECTION_LOSS' | 'SESSION_EXPIRED';

/** Compare-and-set retries before giving up: enough for every coordinator racing at once, many times over. */
export const CAS_MAX_ATTEMPTS = 32;
/** Extra wait, past one session timeout, for an ephemeral of an expired session to disappear. */
const EPHEMERAL_TAKEOVER_GRACE_MS = 2_000;
const EPHEMERAL_RECHECK_MS = 100;
/** Attempts to open a replacement session after expiry, before the store gives up for good. */
const RESESSION_BACKOFF_MAX_MS = 2_000;

export function isZkError(error: unknown, code: ZkCode): boolean {
  return error instanceof Exception && (error as InstanceType<typeof Exception>).getName() === code;
}

/**
 * An error after which the same idempotent request may well succeed: the connection dropped
 * (the request may or may not have been applied) or no answer came in time.
 */
export function isTransientError(error: unknown): boolean {
  return isZkError(error, 'CONNECTION_LOSS') || (error instanceof PvcError && error.code === 'unreachable');
}

type RawClient = zookeeper.Client;
type Callback<R> = (error: unknown, result?: R) => void;

interface WatchEntry {
  ref: ZRef<unknown>;
  kind: WatchKind;
  onChange: () => void;
  active: boolean;
}

interface KeptEphemeral {
  ref: ZRef<unknown>;
  value: () => unknown;
  active: boolean;
}

export const SKIP = Symbol('skip-update');

export class ZkStore extends EventEmitter {
  private client: RawClient;
  private closed = false;
  private readonly watches = new Set<WatchEntry>();
  private readonly kept = new Set<KeptEphemeral>();
  private readonly acls: InstanceType<typeof ACL>[];
  /** Requests and watch arms held back until the current client is connected; see whenConnected. */
  private readonly connectWaiters = new Set<() => void>();

  private constructor(
    private readonly options: StoreOptions,
    client: RawClient,
  ) {
    super();
    this.client = client;
    this.acls = [new ACL(Permission.ALL, new Id('digest', digestId(options.auth)))];
    this.attach(client);
  }

  static async connect(options: StoreOptions): Promise<ZkStore> {
    const client = await openSession(options);
    return new ZkStore(options, client);
  }

  get hosts(): string {
    return this.options.hosts;
  }

  sessionId(): string {
    return this.client.getSessionId().toString('hex');
  }

  /** The timeout the ensemble granted, which may differ from the one asked for. */
  sessionTimeoutMs(): number {
    return this.client.getSessionTimeout();
  }

  isConnected(): boolean {
    return this.client.getState() === zookeeper.State.SYNC_CONNECTED;
  }

  async get<T>(ref: ZRef<T>): Promise<Versioned<T> | null> {
    try {
      const [data, stat] = await this.call<[Buffer, zookeeper.Stat]>('get', ref.path, (c, cb) =>
        c.getData(ref.path, (e, d, s) => cb(e, [d, s])),
      );
      return { value: decode(ref, data), version: stat.version };
    } catch (error) {
      if (isZkError(error, 'NO_NODE')) return null;
      throw error;
    }
  }

  async mustGet<T>(ref: ZRef<T>, what: string): Promise<Versioned<T>> {
    const found = await this.get(ref);
    if (!found) throw new PvcError('not-found', `${what} not found (${ref.path})`);
    return found;
  }

  async stat(ref: ZRef<unknown>): Promise<NodeStat | null> {
    const stat = await this.call<zookeeper.Stat | undefined>('exists', ref.path, (c, cb) => c.exists(ref.path, cb));
    return stat ? toNodeStat(stat) : null;
  }

  async children(ref: ZRef<unknown>): Promise<string[]> {
    try {
      return await this.call<string[]>('children', ref.path, (c, cb) => c.getChildren(ref.path, cb));
    } catch (error) {
      if (isZkError(error, 'NO_NODE')) return [];
      throw error;
    }
  }

  /** Creates a node with pvc's ACL; returns the created path (which differs for sequential nodes). */
  async create<T>(ref: ZRef<T>, value: T, kind: CreateKind = 'persistent', acl: NodeAcl = 'cluster'): Promise<string> {
    const data = encode(ref, value);
    return this.call<string>('create', ref.path, (c, cb) => c.create(ref.path, data, this.aclsFor(acl), createMode(kind), cb));
  }

  /** Replaces an existing node's ACL (ZooKeeper asks for ADMIN on it), e.g. after the daemon identity was added. */
  async setAcl(ref: ZRef<unknown>, acl: NodeAcl): Promise<void> {
    await this.call<void>('setACL', ref.path, (c, cb) => c.setACL(ref.path, this.aclsFor(acl), -1, (e) => cb(e)));
  }

  /** Creates a node unless it exists; true when this call created it. */
  async ensure<T>(ref: ZRef<T>, value: T, acls?: 'namespace'): Promise<boolean> {
    const data = encode(ref, value);
    const list = acls === 'namespace' ? this.namespaceAcls() : this.acls;
    try {
      await this.call<string>('create', ref.path, (c, cb) => c.create(ref.path, data, list, CreateMode.PERSISTENT, cb));
      return true;
    } catch (error) {
      if (isZkError(error, 'NODE_EXISTS')) return false;
      throw error;
    }
  }

  async set<T>(ref: ZRef<T>, value: T, version = -1): Promise<number> {
    const data = encode(ref, value);
    const stat = await this.call<zookeeper.Stat>('set', ref.path, (c, cb) => c.setData(ref.path, data, version, cb));
    return stat.version;
  }

  async remove(ref: ZRef<unknown>, version = -1): Promise<void> {
    await this.call<void>('remove', ref.path, (c, cb) => c.remove(ref.path, version, (e) => cb(e)));
  }

  /** Removes a node if present; true when this call removed it. */
  async removeIfPresent(ref: ZRef<unknown>, version = -1): Promise<boolean> {
    try {
      await this.remove(ref, version);
      return true;
    } catch (error) {
      if (isZkError(error, 'NO_NODE')) return false;
      throw error;
    }
  }

  /**
   * Read-modify-write with compare-and-set: `change` gets the current value (undefined when the
   * node is missing) and returns the new one, or SKIP to write nothing. On a version conflict
   * the read and `change` run again, up to CAS_MAX_ATTEMPTS times.
   */
  async update<T>(ref: ZRef<T>, change: (current: T | undefined) => T | typeof SKIP, acl: NodeAcl = 'cluster'): Promise<T | undefined> {
    for (let attempt = 1; attempt <= CAS_MAX_ATTEMPTS; attempt += 1) {
      const current = await this.get(ref);
      const next = change(current?.value);
      if (next === SKIP) return current?.value;
      try {
        if (current) await this.set(ref, next, current.version);
        else await this.create(ref, next, 'persistent', acl);
        return next;
      } catch (error) {
        // Lost a race: changed (BAD_VERSION), created (NODE_EXISTS) or removed (NO_NODE on set)
        // since the read. NO_NODE on create means the parent is missing: retrying cannot help.
        const raced = isZkError(error, 'BAD_VERSION') || isZkError(error, 'NODE_EXISTS') || (current !== null && isZkError(error, 'NO_NODE'));
        if (raced) continue;
        throw error;
      }
    }
    throw new PvcError('conflict', `gave up updating ${ref.path} after ${CAS_MAX_ATTEMPTS} version conflicts`);
  }

  transaction(): Transaction {
    return new Transaction((ops) => this.commitOps(ops));
  }

  /** Runs the ops of a Transaction as one multi. */
  private async commitOps(ops: TxOp[]): Promise<string[]> {
    const label = ops.map((op) => `${op.op} ${op.path}`).join(', ');
    const results = await this.call<Array<{ path?: string }>>('multi', label, (c, cb) => {
      const tx = c.transaction();
      for (const op of ops) {
        if (op.op === 'create') tx.create(op.path, op.data, this.acls, createMode(op.kind));
        else if (op.op === 'set') tx.setData(op.path, op.data, op.version);
        else if (op.op === 'remove') tx.remove(op.path, op.version);
        else tx.check(op.path, op.version);
      }
      // Fix: node-zookeeper-client's Transaction turns version 0 into -1 (`version || -1`), so a
      // multi's check, set or remove of a never-changed node matched any version; put it back.
      const built = (tx as unknown as { ops: Array<{ version?: number }> }).ops;
      for (const [i, op] of ops.entries()) if (op.op !== 'create' && built[i]) built[i].version = op.version;
      tx.commit(cb);
    });
    return results.map((r) => r.path ?? '');
  }

  /**
   * Calls `onChange` whenever the node's data, children or existence changes, for as long as the
   * returned function is not called. ZooKeeper's watches fire once; this one re-arms itself, and
   * is re-armed (and fired, since changes may have been missed) after a new session.
   */
  watch(ref: ZRef<unknown>, kind: WatchKind, onChange: () => void): () => void {
    const entry: WatchEntry = { ref, kind, onChange, active: true };
    this.watches.add(entry);
    this.arm(entry);
    return () => {
      entry.active = false;
      this.watches.delete(entry);
    };
  }

  /**
   * Creates an ephemeral node now and again after every session expiry, with `value()` read each
   * time; the returned function removes it and stops re-creating it.
   */
  async keepEphemeral<T>(ref: ZRef<T>, value: () => T): Promise<() => Promise<void>> {
    const entry: KeptEphemeral = { ref, value, active: true };
    await this.createEphemeralReplacing(entry);
    this.kept.add(entry);
    return async () => {
      entry.active = false;
      this.kept.delete(entry);
      if (!this.closed) await this.removeIfPresent(ref);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watches.clear();
    this.kept.clear();
    this.releaseConnectWaiters();
    const client = this.client;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.options.requestTimeoutMs);
      client.once('disconnected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.close();
    });
  }

  private aclsFor(acl: NodeAcl): InstanceType<typeof ACL>[] {
    const daemon = acl === 'daemon' ? this.options.daemonAuth : undefined;
    return daemon ? [new ACL(Permission.ALL, new Id('digest', digestId(daemon)))] : this.acls;
  }

  private namespaceAcls(): InstanceType<typeof ACL>[] {
    // Anyone may add a cluster under /pvc; nobody else may list or change what is there.
    return [...this.acls, new ACL(Permission.CREATE, new Id('world', 'anyone'))];
  }

  private async createEphemeralReplacing(entry: KeptEphemeral): Promise<void> {
    // An ephemeral of another session may be one our previous process left (killed, and its
    // session not yet expired) or a second pvcd using the same name. Wait out one session
    // timeout: a stale session expires in that time, a live duplicate does not and is refused.
    const deadline = Date.now() + this.sessionTimeoutMs() + EPHEMERAL_TAKEOVER_GRACE_MS;
    for (;;) {
      const data = encode(entry.ref, entry.value());
      try {
        await this.call<string>('create', entry.ref.path, (c, cb) => c.create(entry.ref.path, data, this.acls, CreateMode.EPHEMERAL, cb));
        return;
      } catch (error) {
        if (!isZkError(error, 'NODE_EXISTS')) throw error;
      }
      const stat = await this.stat(entry.ref);
      if (stat?.ephemeralOwner === this.sessionId()) return;
      if (Date.now() > deadline) {
        throw new PvcError('refused', `${entry.ref.path} is held by another live zookeeper session (${stat?.ephemeralOwner ?? 'unknown'}): is a second process running with the same name?`);
      }
      await new Promise((resolve) => setTimeout(resolve, EPHEMERAL_RECHECK_MS));
    }
  }

  private arm(entry: WatchEntry): void {
    if (!entry.active || this.closed) return;
    this.whenConnected(() => this.armNow(entry));
  }

  private armNow(entry: WatchEntry): void {
    if (!entry.active || this.closed) return;
    const client = this.client;
    // Fix: a closure may be registered twice (by the exists() fallback below, then fired by
    // hand when the node appeared in between); it must re-arm and report once, or every
    // later change would be reported twice, then four times, ...
    let fired = false;
    const watcher = (): void => {
      if (fired || !entry.active || client !== this.client) return;
      fired = true;
      this.arm(entry);
      entry.onChange();
    };
    const done = (error: unknown): void => {
      // NO_NODE still arms a data watch's existence check below; other errors are retried on the
      // next session or resync, so they only reach the log.
      if (error && !isZkError(error, 'NO_NODE')) this.options.onEvent?.('watch-arm-failed', { path: entry.ref.path, error: errorMessage(error) });
      if (error && isZkError(error, 'NO_NODE') && entry.kind !== 'exists') {
        // Fix: when the node was created between the failed read and this check, exists()
        // finds it and no creation event will come: report the change now (and re-arm).
        client.exists(entry.ref.path, watcher, (e: unknown, stat?: zookeeper.Stat) => {
          if (!e && stat) watcher();
        });
      }
    };
    if (entry.kind === 'data') client.getData(entry.ref.path, watcher, (e) => done(e));
    else if (entry.kind === 'children') client.getChildren(entry.ref.path, watcher, (e) => done(e));
    else client.exists(entry.ref.path, watcher, (e) => done(e));
  }

  private attach(client: RawClient): void {
    client.on('state', (state: zookeeper.State) => {
      if (client !== this.client || this.closed) return;
      if (state === zookeeper.State.DISCONNECTED) this.emit('state', 'disconnected');
      else if (state === zookeeper.State.SYNC_CONNECTED) {
        this.releaseConnectWaiters();
        this.emit('state', 'connected');
      } else if (state === zookeeper.State.EXPIRED) {
        this.emit('state', 'expired');
        void this.replaceSession();
      }
    });
  }

  /** After expiry: a new session, then kept ephemerals re-created and watches re-armed. */
  private async replaceSession(): Promise<void> {
    const old = this.client;
    old.close();
    let backoffMs = 100;
    while (!this.closed) {
      try {
        const fresh = await openSession(this.options);
        if (this.closed) {
          fresh.close();
          return;
        }
        this.client = fresh;
        this.attach(fresh);
        this.releaseConnectWaiters();
        this.options.onEvent?.('session-replaced', { sessionId: this.sessionId() });
        for (const entry of this.kept) {
          if (entry.active) await this.createEphemeralReplacing(entry);
        }
        this.emit('session', this.sessionId());
        for (const entry of this.watches) {
          this.arm(entry);
          entry.onChange();
        }
        return;
      } catch (error) {
        // Fix: a failure after the new session was installed (re-creating an ephemeral lost its
        // connection) used to leave that session open forever, pinging and holding whatever it
        // had created, while the next attempt opened another one. Close it first.
        if (this.client !== old) this.client.close();
        this.options.onEvent?.('session-replace-failed', { error: errorMessage(error), retryInMs: backoffMs });
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, RESESSION_BACKOFF_MAX_MS);
      }
    }
  }

  /** Runs one client call with the store's request timeout, on whichever session is current. */
  call<R>(op: string, path: string, run: (client: RawClient, cb: Callback<R>) => void): Promise<R> {
    if (this.closed) return Promise.reject(new PvcError('unreachable', `zookeeper store is closed (${op} ${path})`));
    const timeoutMs = this.options.requestTimeoutMs;
    return new Promise<R>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        reject(new PvcError('unreachable', `zookeeper at ${this.options.hosts} did not answer ${op} ${path} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.whenConnected(() => {
        if (timedOut) return;
        if (this.closed) {
          clearTimeout(timer);
          reject(new PvcError('unreachable', `zookeeper store is closed (${op} ${path})`));
          return;
        }
        run(this.client, (error, result) => {
          clearTimeout(timer);
          if (error) reject(isZkError(error, 'NO_AUTH') ? notAuthorized(op, path, this.options.auth, error) : error);
          else resolve(result as R);
        });
      });
    });
  }

  /**
   * Runs `send` now when the current client is connected, otherwise once it (or a replacement
   * session) is. Fix: node-zookeeper-client queues a request made while disconnected, and on
   * reconnecting sends the queue *before* the digest auth packet it owes the new server
   * connection (ZooKeeper keeps auth per connection, not per session). Such a request was
   * refused NO_AUTH, and reported as a wrong password, after every failover. A request made
   * after the 'connected' event is queued behind the auth packet, so it is authorized.
   */
  private whenConnected(send: () => void): void {
    if (this.closed || this.isConnected()) send();
    else this.connectWaiters.add(send);
  }

  private releaseConnectWaiters(): void {
    const waiting = [...this.connectWaiters];
    this.connectWaiters.clear();
    for (const send of waiting) send();
  }
}

function openSession(options: StoreOptions): Promise<RawClient> {
  const client = zookeeper.createClient(options.hosts, {
    sessionTimeout: options.sessionTimeoutMs,
    spinDelay: 100,
    // The store puts its own timeout on every call; the client's own retries would hide
    // a lost connection behind seconds of backoff.
    retries: 0,
  });
  for (const auth of [options.auth, ...(options.daemonAuth ? [options.daemonAuth] : [])]) client.addAuthInfo('digest', Buffer.from(`${auth.user}:${auth.password}`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new PvcError('unreachable', `cannot reach zookeeper at ${options.hosts} within ${options.connectTimeoutMs} ms`));
    }, options.connectTimeoutMs);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

function createMode(kind: CreateKind): number {
  if (kind === 'ephemeral') return CreateMode.EPHEMERAL;
  if (kind === 'ephemeral-sequential') return CreateMode.EPHEMERAL_SEQUENTIAL;
  return CreateMode.PERSISTENT;
}

function toNodeStat(stat: zookeeper.Stat): NodeStat {
  const owner = stat.ephemeralOwner.toString('hex');
  return { version: stat.version, ephemeralOwner: /^0+$/.test(owner) ? '0' : owner };
}
