// A set of real pvcd processes for one test cluster: started with short timeouts, stopped (by
// PID, only the ones started here) when the test ends, and inspected through ZooKeeper.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { NodeRole } from '../../common/zk/schema.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { startPvcd, stopPvcd, signalIfAlive, waitGone, type PvcdProcess } from '../../scripts/lib/pvcd-process.ts';
import { overlappingSpans, primarySpans, readJournal, type PrimarySpan } from './journals.ts';
import { waitFor } from './wait.ts';
import { TEST_SESSION_TIMEOUT_MS, testAuth } from './zk.ts';

export { TEST_SESSION_TIMEOUT_MS };

export interface PvcdExtra {
  runnables?: string[];
  hypervisor?: Record<string, unknown>;
  /** Further top-level pvcd config sections (ceph, network, ...). */
  sections?: Record<string, unknown>;
  /** pvcd's own ZooKeeper identity beside the shared test one (docs/zk-schema.md "ACLs"). */
  daemonAuth?: { user: string; password: string };
  /** Run this pvcd inside a network namespace (e.g. one a test cuts off from ZooKeeper). */
  netns?: string;
}
const DEFAULT_WAIT_MS = 30_000;

export class PvcdFleet {
  readonly layout: ZkLayout;
  readonly dir: string;
  private readonly processes = new Map<string, PvcdProcess>();
  private readonly everStarted: PvcdProcess[] = [];
  private readonly settings = new Map<string, { role: NodeRole; extra: PvcdExtra }>();

  private readonly sessionTimeoutMs: number;

  /** `baseDir` holds the pvcd folders: the test run's folder (pruned with it) or the bench's. */
  constructor(
    readonly hosts: string,
    readonly cluster: string,
    readonly store: ZkStore,
    options: { baseDir: string; sessionTimeoutMs?: number },
  ) {
    this.layout = new ZkLayout(cluster);
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? TEST_SESSION_TIMEOUT_MS;
    this.dir = path.join(options.baseDir, 'pvcd', cluster);
    mkdirSync(this.dir, { recursive: true });
  }

  /** Starts pvcd for `node`; a node started before is started again with the same settings. */
  start(node: string, role?: NodeRole, extra?: PvcdExtra): PvcdProcess {
    const previous = this.settings.get(node);
    role ??= previous?.role ?? 'coordinator';
    extra ??= previous?.extra ?? {};
    this.settings.set(node, { role, extra });
    const proc = startPvcd({
      ...extra,
      dir: this.dir,
      cluster: this.cluster,
      node,
      role,
      hosts: this.hosts,
      user: testAuth.user,
      password: testAuth.password,
      sessionTimeoutMs: this.sessionTimeoutMs,
      keepaliveIntervalMs: 250,
      journal: true,
      detached: false,
    });
    this.processes.set(node, proc);
    this.everStarted.push(proc);
    return proc;
  }

  process(node: string): PvcdProcess {
    const proc = this.processes.get(node);
    if (!proc) throw new Error(`no pvcd started for ${node}`);
    return proc;
  }

  signal(node: string, signal: NodeJS.Signals): void {
    signalIfAlive(this.process(node).pid, signal);
  }

  async waitExit(node: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (!(await waitGone(this.process(node).pid, timeoutMs))) throw new Error(`pvcd ${node} did not exit within ${timeoutMs} ms`);
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.everStarted.map((p) => stopPvcd(p.pid, p.configPath, 5_000)));
  }

  async primary(): Promise<string | null> {
    return (await this.store.get(this.layout.primary()))?.value.node ?? null;
  }

  async waitForPrimary(accept: (node: string) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<string> {
    return waitFor('a primary', async () => {
      const node = await this.primary();
      return node !== null && accept(node) ? node : null;
    }, timeoutMs);
  }

  /** Waits until the node's own status says it is primary and its journal shows it started. */
  async waitUntilServing(node: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await waitFor(`${node} serving as primary`, async () => {
      const status = await this.store.get(this.layout.nodeStatus(node));
      const open = this.spans().some((s) => s.node === node && s.stopMs === null);
      return status?.value.coordinatorState === 'primary' && open ? true : null;
    }, timeoutMs);
  }

  spans(): PrimarySpan[] {
    const paths = [...new Set(this.everStarted.map((p) => p.journalPath))];
    return primarySpans(paths.flatMap((p) => readJournal(p)).sort((a, b) => a.atMs - b.atMs));
  }

  overlaps(): Array<[PrimarySpan, PrimarySpan]> {
    return overlappingSpans(this.spans());
  }
}
