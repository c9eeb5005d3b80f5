// ZkStore and the schema migrations against the shared real ZooKeeper ensemble (started by
// test/helpers/global-setup.ts). Every test works under its own cluster name.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import { spawnBackground } from '../../common/exec.ts';
import { MIGRATIONS, checkSchema, migrateSchema, type Migration } from '../../common/zk/migrations.ts';
import { SCHEMA_VERSION, ZkLayout, lastPathSegment, parseCandidateName, type NodeSpec } from '../../common/zk/schema.ts';
import { SKIP, ZkStore, isZkError, type WatchKind } from '../../common/zk/store.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import type { HolderReport } from '../helpers/session-holder.ts';
import { connectRaw, zkErrorName, type RawZk } from '../helpers/raw-zk.ts';
import { waitFor } from '../helpers/wait.ts';
import { closeTrackedStores, connectStore, testAuth, uniqueClusterName } from '../helpers/zk.ts';

const hosts = inject('zkHosts');
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const raws: RawZk[] = [];
afterAll(async () => {
  raws.splice(0).forEach((raw) => raw.close());
  await closeTrackedStores();
});

async function raw(auth?: { user: string; password: string }): Promise<RawZk> {
  const client = await connectRaw(hosts, auth);
  raws.push(client);
  return client;
}

/** A store and a migrated cluster of its own. */
async function freshCluster(prefix: string): Promise<{ store: ZkStore; layout: ZkLayout }> {
  const store = await connectStore(hosts);
  const layout = new ZkLayout(uniqueClusterName(prefix));
  await migrateSchema(store, layout);
  return { store, layout };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function expectPvcError(error: unknown, code: PvcError['code'], ...inMessage: string[]): void {
  expect(error).toBeInstanceOf(PvcError);
  expect((error as PvcError).code).toBe(code);
  for (const text of inMessage) expect((error as PvcError).message).toContain(text);
}

const hv = (name: string, role: NodeSpec['role'] = 'hypervisor'): NodeSpec => ({ name, role });

// ZooKeeper is sequentially consistent per session, not linearizable across sessions: a client
// on a follower may not yet have applied what another client just wrote. A test that checks one
// client's write through another first waits until the reader's server has it.

/** Waits until `read` rejects (the reader's server has caught up with the write) and returns the error. */
async function eventualRejection(what: string, read: () => Promise<unknown>): Promise<unknown> {
  let error: unknown;
  await waitFor(what, async () => {
    try {
      await read();
      return false;
    } catch (caught) {
      error = caught;
      return true;
    }
  });
  return error;
}

describe('values', () => {
  it('round-trips create, get, set, children and remove with versions', async () => {
    const { store, layout } = await freshCluster('roundtrip');
    const ref = layout.node('hv1');
    expect(await store.get(ref)).toBeNull();
    expect(await store.create(ref, hv('hv1'))).toBe(ref.path);
    expect(await store.get(ref)).toEqual({ value: hv('hv1'), version: 0 });
    expect(await store.set(ref, hv('hv1', 'coordinator'))).toBe(1);
    expect(await store.get(ref)).toEqual({ value: hv('hv1', 'coordinator'), version: 1 });
    expect(await store.ensure(ref, hv('hv1'))).toBe(false);
    expect((await store.get(ref))?.value.role).toBe('coordinator');
    await store.create(layout.node('hv2'), hv('hv2'));
    expect((await store.children(layout.nodesDir())).sort()).toEqual(['hv1', 'hv2']);
    expect(await store.stat(ref)).toEqual({ version: 1, ephemeralOwner: '0' });

    const stale = await rejection(store.set(ref, hv('hv1'), 0));
    expect(isZkError(stale, 'BAD_VERSION')).toBe(true);
    await store.remove(ref, 1);
    expect(await store.get(ref)).toBeNull();
    expect(await store.removeIfPresent(ref)).toBe(false);
    expect(await store.children(layout.nodesDir())).toEqual(['hv2']);
    expectPvcError(await rejection(store.mustGet(ref, 'node hv1')), 'not-found', 'node hv1', ref.path);
  });

  it('refuses an invalid value on write and writes nothing', async () => {
    const { store, layout } = await freshCluster('badwrite');
    const ref = layout.node('hv1');
    const bad = { name: 'HV1', role: 'hypervisor' } as NodeSpec;
    expectPvcError(await rejection(store.create(ref, bad)), 'bad-input', ref.path, 'name');
    expect(await store.stat(ref)).toBeNull();

    await store.create(ref, hv('hv1'));
    expectPvcError(await rejection(store.set(ref, { name: 'hv1', role: 'storage' } as unknown as NodeSpec)), 'bad-input', ref.path, 'role');
    expectPvcError(await rejection(store.update(ref, () => ({ name: 'hv1', role: 'hypervisor', extra: 1 }) as NodeSpec)), 'bad-input', ref.path);
    expect(await store.get(ref)).toEqual({ value: hv('hv1'), version: 0 });
    expect(() => store.transaction().create(layout.node('hv2'), bad)).toThrow(PvcError);
  });

  it('refuses a corrupt stored value on read, naming the path', async () => {
    const { store, layout } = await freshCluster('corrupt');
    const ref = layout.node('hv1');
    await store.create(ref, hv('hv1'));
    const writer = await raw(testAuth);
    await waitFor('the writer to see the node', () => writer.exists(ref.path));
    await writer.setData(ref.path, Buffer.from(JSON.stringify({ name: 'hv1', role: 'toaster' })));
    expectPvcError(await eventualRejection('the store to read the bad role', () => store.get(ref)), 'corrupt', ref.path, 'role');
    // Later writes reach the store's server in order: each read sees this write or a later one.
    await writer.setData(ref.path, Buffer.from('{not json'));
    expectPvcError(await rejection(store.get(ref)), 'corrupt', ref.path);
    await writer.setData(ref.path, Buffer.alloc(0));
    expectPvcError(await rejection(store.get(ref)), 'corrupt', ref.path);
  });
});

describe('digest acls', () => {
  it('refuses clients without the password on everything the store created', async () => {
    const { store, layout } = await freshCluster('acl');
    const ref = layout.node('hv1');
    await store.create(ref, hv('hv1'));
    const child = layout.nodeStatus('hv1').path;

    const anonymous = await raw();
    const wrongPassword = await raw({ user: testAuth.user, password: `${testAuth.password}-wrong` });
    for (const intruder of [anonymous, wrongPassword]) {
      await waitFor("the intruder's server to have the node", () => intruder.exists(ref.path));
      expect(zkErrorName(await rejection(intruder.getData(ref.path)))).toBe('NO_AUTH');
      expect(zkErrorName(await rejection(intruder.setData(ref.path, Buffer.from('{}'))))).toBe('NO_AUTH');
      expect(zkErrorName(await rejection(intruder.create(child, Buffer.from('{}'))))).toBe('NO_AUTH');
      expect(zkErrorName(await rejection(intruder.getData(layout.schemaVersion().path)))).toBe('NO_AUTH');
      expect(zkErrorName(await rejection(intruder.getChildren(layout.nodesDir().path)))).toBe('NO_AUTH');
      // The namespace lets anyone add a cluster, but not list the clusters there.
      expect(zkErrorName(await rejection(intruder.getChildren(layout.namespace().path)))).toBe('NO_AUTH');
    }
    // Nothing changed, and a client with the password may read: the refusals were the ACL's.
    expect(await store.get(ref)).toEqual({ value: hv('hv1'), version: 0 });
    expect(await store.stat(layout.nodeStatus('hv1'))).toBeNull();
    const friend = await raw(testAuth);
    await waitFor("the friend's server to have the node", () => friend.exists(ref.path));
    expect(JSON.parse(String(await friend.getData(ref.path)))).toEqual(hv('hv1'));
  });

  it('maps NO_AUTH to not-authorized for a store with the wrong password', async () => {
    const { store, layout } = await freshCluster('aclstore');
    await store.create(layout.node('hv1'), hv('hv1'));
    const wrong = await connectStore(hosts, { auth: { user: 'pvc', password: 'not-the-secret' } });
    // stat() (exists) is not subject to ACLs.
    await waitFor("the wrong store's server to have the node", async () => (await wrong.stat(layout.node('hv1'))) !== null);
    expectPvcError(await rejection(wrong.get(layout.node('hv1'))), 'not-authorized', layout.node('hv1').path, '"pvc"');
    expectPvcError(await rejection(wrong.set(layout.node('hv1'), hv('hv1', 'coordinator'))), 'not-authorized', layout.node('hv1').path);
    expectPvcError(await rejection(wrong.create(layout.node('hv2'), hv('hv2'))), 'not-authorized', layout.node('hv2').path);
    expectPvcError(await rejection(checkSchema(wrong, layout)), 'not-authorized');
    expect(await store.get(layout.node('hv1'))).toEqual({ value: hv('hv1'), version: 0 });
    expect(await store.stat(layout.node('hv2'))).toBeNull();
  });
});

describe('compare-and-set', () => {
  it('lands every one of many concurrent increments from two stores', async () => {
    const { store: first, layout } = await freshCluster('cas');
    const second = await connectStore(hosts);
    // The counter is the cluster's own (private) schema version node, created by the first
    // increment. 32 one-shot increments: each failed attempt of one is another's success, so
    // none can fail more than 31 times and CAS_MAX_ATTEMPTS (32) can never run out.
    const counter = layout.schemaVersion();
    await first.remove(counter);
    const perStore = 16;
    const increment = (store: ZkStore): Promise<number | undefined> =>
      store.update(counter, (current) => ({ version: (current?.version ?? 0) + 1 })).then((written) => written?.version);
    const written = await Promise.all([first, second].flatMap((store) => Array.from({ length: perStore }, () => increment(store))));
    const total = 2 * perStore;
    // Each increment wrote a distinct value: none read a value another had already replaced.
    expect([...written].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // The last increment may have come through the other store's server.
    await waitFor('the final count', async () => (await second.get(counter))?.value.version === total);
    expect(await second.get(counter)).toEqual({ value: { version: total }, version: total - 1 });
  });

  it('writes nothing when the change says SKIP', async () => {
    const { store, layout } = await freshCluster('casskip');
    const before = await store.get(layout.clusterInfo());
    expect(await store.update(layout.clusterInfo(), () => SKIP)).toEqual(before?.value);
    expect(await store.get(layout.clusterInfo())).toEqual(before);
  });
});

describe('transactions', () => {
  it('applies nothing when one check fails', async () => {
    const { store, layout } = await freshCluster('txfail');
    const info = await store.mustGet(layout.clusterInfo(), 'cluster info');
    const tx = store
      .transaction()
      .create(layout.node('hv1'), hv('hv1'))
      .set(layout.clusterInfo(), { name: layout.cluster }, info.version)
      .check(layout.schemaVersion(), 99);
    expect(tx.size).toBe(3);
    const error = await rejection(tx.commit());
    expect(isZkError(error, 'BAD_VERSION')).toBe(true);
    expect(await store.stat(layout.node('hv1'))).toBeNull();
    expect(await store.get(layout.clusterInfo())).toEqual(info);
  });

  it('applies every op when all checks hold', async () => {
    const { store, layout } = await freshCluster('txok');
    const info = await store.mustGet(layout.clusterInfo(), 'cluster info');
    const version = await store.mustGet(layout.schemaVersion(), 'schema version');
    const paths = await store
      .transaction()
      .check(layout.schemaVersion(), version.version)
      .create(layout.node('hv1'), hv('hv1'))
      .create(layout.nodeAlive('hv1'), { pid: process.pid, sessionId: store.sessionId() }, 'ephemeral')
      .set(layout.clusterInfo(), { name: layout.cluster }, info.version)
      .create(layout.newCandidate('hv1'), { node: 'hv1' }, 'ephemeral-sequential')
      .commit();
    expect(paths.slice(0, 3)).toEqual(['', layout.node('hv1').path, layout.nodeAlive('hv1').path]);
    expect(await store.get(layout.node('hv1'))).toEqual({ value: hv('hv1'), version: 0 });
    expect((await store.stat(layout.nodeAlive('hv1')))?.ephemeralOwner).toBe(store.sessionId());
    expect((await store.get(layout.clusterInfo()))?.version).toBe(info.version + 1);
    const candidate = parseCandidateName(lastPathSegment(paths[4] ?? ''));
    expect(candidate.node).toBe('hv1');
    expect(await store.children(layout.electionDir())).toEqual([candidate.childName]);
    expect(await store.get(layout.candidate(candidate.childName))).toEqual({ value: { node: 'hv1' }, version: 0 });
  });
});

describe('watch', () => {
  /** Counts the calls of one watch; changes come from the same store, so each is seen in order. */
  function counter(store: ZkStore, ref: Parameters<ZkStore['watch']>[0], kind: WatchKind): { count: () => number; stop: () => void } {
    let count = 0;
    const stop = store.watch(ref, kind, () => {
      count += 1;
    });
    return { count: () => count, stop };
  }

  async function expectFires(what: string, watched: { count: () => number }, change: () => Promise<unknown>): Promise<void> {
    const before = watched.count();
    await change();
    await waitFor(`the watch to fire after ${what}`, () => watched.count() > before);
  }

  /** Proves a stopped watch stays silent: a later change on a live watch is seen, the stopped one is not. */
  async function expectSilent(watched: { count: () => number }, change: () => Promise<unknown>, sentinel: () => Promise<void>): Promise<void> {
    const before = watched.count();
    await change();
    // ZooKeeper delivers a session's notifications in order, so once the sentinel's watch fired,
    // the stopped watch would have fired too.
    await sentinel();
    expect(watched.count()).toBe(before);
  }

  async function sentinelFor(store: ZkStore, layout: ZkLayout): Promise<() => Promise<void>> {
    const ref = layout.clusterInfo();
    const live = counter(store, ref, 'data');
    return () => expectFires('a change to the sentinel', live, () => store.set(ref, { name: layout.cluster }));
  }

  it('data: fires for successive changes, deletion and re-creation, and stops after unwatch', async () => {
    const { store, layout } = await freshCluster('watchdata');
    const ref = layout.node('hv1');
    const sentinel = await sentinelFor(store, layout);
    const watched = counter(store, ref, 'data');
    await expectFires('creation of a missing node', watched, () => store.create(ref, hv('hv1')));
    for (const role of ['coordinator', 'hypervisor', 'coordinator'] as const) {
      await expectFires(`a change to ${role}`, watched, () => store.set(ref, hv('hv1', role)));
    }
    await expectFires('removal', watched, () => store.remove(ref));
    await expectFires('re-creation', watched, () => store.create(ref, hv('hv1')));
    watched.stop();
    await expectSilent(watched, () => store.set(ref, hv('hv1', 'coordinator')), sentinel);
  });

  it('children: fires for each child added or removed, and stops after unwatch', async () => {
    const { store, layout } = await freshCluster('watchchildren');
    const sentinel = await sentinelFor(store, layout);
    const watched = counter(store, layout.nodesDir(), 'children');
    await expectFires('hv1 added', watched, () => store.create(layout.node('hv1'), hv('hv1')));
    await expectFires('hv2 added', watched, () => store.create(layout.node('hv2'), hv('hv2')));
    await expectFires('hv1 removed', watched, () => store.remove(layout.node('hv1')));
    // A change to a child's data is not a change of the children.
    await expectSilent(watched, () => store.set(layout.node('hv2'), hv('hv2', 'coordinator')), sentinel);
    watched.stop();
    await expectSilent(watched, () => store.create(layout.node('hv3'), hv('hv3')), sentinel);
  });

  it('exists: fires on creation, change and deletion, and stops after unwatch', async () => {
    const { store, layout } = await freshCluster('watchexists');
    const ref = layout.primary();
    const sentinel = await sentinelFor(store, layout);
    const watched = counter(store, ref, 'exists');
    const primary = { node: 'hv1', sessionId: store.sessionId() };
    await expectFires('creation', watched, () => store.create(ref, primary, 'ephemeral'));
    await expectFires('a change', watched, () => store.set(ref, { ...primary, node: 'hv2' }));
    await expectFires('deletion', watched, () => store.remove(ref));
    await expectFires('creation again', watched, () => store.create(ref, primary, 'ephemeral'));
    watched.stop();
    await expectSilent(watched, () => store.remove(ref), sentinel);
  });
});

describe('session expiry', () => {
  const FIXTURE = fileURLToPath(new URL('../helpers/session-holder.ts', import.meta.url));

  function reportsIn(logFile: string): HolderReport[] {
    let text: string;
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      return [];
    }
    const lines = text.split('\n');
    // Every report ends with a newline: the last piece is empty or a line still being written.
    lines.pop();
    return lines
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as HolderReport);
  }

  function isAlive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  it('gets a new session that re-creates the ephemeral and re-arms the watch', { timeout: 120_000 }, async () => {
    const { store, layout } = await freshCluster('expiry');
    const node = 'holder';
    await store.create(layout.node(node), hv(node));
    const alive = layout.nodeAlive(node);
    const runDir = path.join(inject('testRunDir'), 'fixtures');
    mkdirSync(runDir, { recursive: true });
    const logFile = path.join(runDir, `${layout.cluster}.log`);
    // `node --import tsx`, not `npx tsx`: one PID, so SIGSTOP stops the process holding the session.
    const pid = spawnBackground(process.execPath, ['--import', 'tsx', FIXTURE, hosts, layout.cluster, node], { logFile, detached: false, cwd: REPO_ROOT });
    const reports = (): HolderReport[] => reportsIn(logFile);
    const watchesIn = (sessionId: string): number => reports().filter((r) => r.event === 'watch' && r.sessionId === sessionId).length;
    try {
      const ready = await waitFor(`the holder (pid ${pid}, log ${logFile}) to report ready`, () => {
        const fatal = reports().find((r) => r.event === 'fatal');
        if (fatal) throw new Error(`holder failed: ${JSON.stringify(fatal)}`);
        return reports().find((r): r is Extract<HolderReport, { event: 'ready' }> => r.event === 'ready');
      });
      const first = ready.sessionId;
      const created = await waitFor('the test store to see the ephemeral', () => store.stat(alive));
      expect(created.ephemeralOwner).toBe(first);

      // The watch works in the first session.
      await store.set(layout.node(node), hv(node, 'coordinator'));
      await waitFor('the holder to see a change in its first session', () => watchesIn(first) >= 1);

      process.kill(pid, 'SIGSTOP');
      try {
        // The ensemble expires the silent session and deletes its ephemeral.
        await waitFor('the stopped holder to lose its ephemeral', async () => (await store.stat(alive)) === null);
        // A change the holder cannot see while stopped.
        await store.set(layout.node(node), hv(node, 'hypervisor'));
      } finally {
        process.kill(pid, 'SIGCONT');
      }

      const recreated = await waitFor('the ephemeral to come back under a new session', async () => {
        const stat = await store.stat(alive);
        return stat && stat.ephemeralOwner !== first ? stat : null;
      });
      const session = await waitFor('the holder to report its new session', () =>
        reports().find((r): r is Extract<HolderReport, { event: 'session' }> => r.event === 'session'),
      );
      const second = session.sessionId;
      expect(second).not.toBe(first);
      expect(recreated.ephemeralOwner).toBe(second);
      expect(await store.get(alive)).toEqual({ value: { pid, sessionId: second }, version: 0 });
      expect(reports()).toContainEqual({ event: 'state', state: 'expired' });

      // Re-armed in the new session: it fires once at once (changes may have been missed), then
      // again for a new change.
      await waitFor('the re-armed watch to report the new session', () => watchesIn(second) >= 1);
      const seen = watchesIn(second);
      await store.set(layout.node(node), hv(node, 'coordinator'));
      await waitFor('the re-armed watch to fire for a change', () => watchesIn(second) > seen);
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      await waitFor(`the holder (pid ${pid}) to exit`, () => !isAlive(pid));
    }
  });
});

describe('unreachable', () => {
  it('rejects with unreachable when nothing listens', async () => {
    const [port] = await findFreePorts(1);
    const closed = `127.0.0.1:${port}`;
    const error = await rejection(ZkStore.connect({ hosts: closed, auth: testAuth, sessionTimeoutMs: 2_000, connectTimeoutMs: 1_500, requestTimeoutMs: 1_500 }));
    expectPvcError(error, 'unreachable', closed, '1500 ms');
  });
});

describe('migrations', () => {
  it('creates the tree at SCHEMA_VERSION and is idempotent', async () => {
    const store = await connectStore(hosts);
    const layout = new ZkLayout(uniqueClusterName('migrate'));
    expectPvcError(await rejection(checkSchema(store, layout)), 'not-found', `"${layout.cluster}"`);
    expect(await migrateSchema(store, layout)).toBe(0);
    for (const dir of [...layout.baseDirectories(), layout.vmsDir()]) expect(await store.get(dir), dir.path).toEqual({ value: {}, version: 0 });
    // Migration 1 writes the name, migration 2 adds the default selector: two writes.
    const info = { value: { name: layout.cluster, defaultVmSelector: 'mem' }, version: 1 };
    expect(await store.get(layout.clusterInfo())).toEqual(info);
    // One create (step 1) and one compare-and-set per later step.
    expect(await store.get(layout.schemaVersion())).toEqual({ value: { version: SCHEMA_VERSION }, version: SCHEMA_VERSION - 1 });
    expect(await checkSchema(store, layout)).toBe(SCHEMA_VERSION);

    const before = await store.children(layout.clusterRoot());
    expect(await migrateSchema(store, layout)).toBe(SCHEMA_VERSION);
    expect(await store.get(layout.schemaVersion())).toEqual({ value: { version: SCHEMA_VERSION }, version: SCHEMA_VERSION - 1 });
    expect(await store.get(layout.clusterInfo())).toEqual(info);
    expect(await store.children(layout.clusterRoot())).toEqual(before);
  });

  it('moves a version 1 tree to version 2, keeping a selector already chosen', async () => {
    const store = await connectStore(hosts);
    const layout = new ZkLayout(uniqueClusterName('migrate12'));
    expect(await migrateSchema(store, layout, MIGRATIONS, 1)).toBe(0);
    expect(await store.get(layout.vmsDir())).toBeNull();
    expect((await store.get(layout.clusterInfo()))?.value).toEqual({ name: layout.cluster });
    expect(await migrateSchema(store, layout)).toBe(1);
    expect((await store.get(layout.vmsDir()))?.value).toEqual({});
    expect((await store.get(layout.clusterInfo()))?.value).toEqual({ name: layout.cluster, defaultVmSelector: 'mem' });

    // Step 2 run again over an operator's choice (as a pvcd that died before recording it would): kept.
    await store.set(layout.clusterInfo(), { name: layout.cluster, defaultVmSelector: 'vms' });
    const step2 = MIGRATIONS.find((m) => m.to === 2) as Migration;
    await step2.apply(store, layout);
    expect((await store.get(layout.clusterInfo()))?.value).toEqual({ name: layout.cluster, defaultVmSelector: 'vms' });
  });

  it('is safe when several stores run it at once, each step recorded once', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => connectStore(hosts)));
    const layout = new ZkLayout(uniqueClusterName('migrateconc'));
    const results = await Promise.all(stores.map((store) => migrateSchema(store, layout)));
    expect(results.every((found) => found >= 0 && found <= SCHEMA_VERSION)).toBe(true);
    // One create and one compare-and-set per step after the first, whoever recorded them.
    expect(await stores[0]?.get(layout.schemaVersion())).toEqual({ value: { version: SCHEMA_VERSION }, version: SCHEMA_VERSION - 1 });

    // Two more steps, run by all four at once: each lands, and the version moves once per step.
    const next = SCHEMA_VERSION + 1;
    const extra: Migration[] = [
      ...MIGRATIONS,
      { to: next, name: 'add m2', apply: async (store, l) => void (await store.ensure(l.node('m2'), hv('m2'))) },
      { to: next + 1, name: 'add m3', apply: async (store, l) => void (await store.ensure(l.node('m3'), hv('m3'))) },
    ];
    await Promise.all(stores.map((store) => migrateSchema(store, layout, extra, next + 1)));
    const store = stores[0] as ZkStore;
    expect(await store.get(layout.schemaVersion())).toEqual({ value: { version: next + 1 }, version: next });
    expect((await store.children(layout.nodesDir())).sort()).toEqual(['m2', 'm3']);
  });

  it('refuses a cluster whose schema is newer than this code, naming both versions', async () => {
    const { store, layout } = await freshCluster('toonew');
    const newer = SCHEMA_VERSION + 1;
    await store.set(layout.schemaVersion(), { version: newer });
    const written = await store.get(layout.schemaVersion());
    for (const error of [await rejection(migrateSchema(store, layout)), await rejection(checkSchema(store, layout))]) {
      expectPvcError(error, 'schema-too-new', `version ${newer}`, `the ${SCHEMA_VERSION} this pvc knows`, `"${layout.cluster}"`);
    }
    expect(await store.get(layout.schemaVersion())).toEqual(written);
  });
});
