// The client library shared by the CLI and the HTTP API: every operation a person can ask of a
// cluster, over one ZooKeeper session. It writes desired state and reads status; it never talks
// to a pvcd directly.
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import { parseZkHosts } from '../zk/hosts.ts';
import { checkSchema } from '../zk/migrations.ts';
import { DEFAULT_VM_SELECTOR, ZkLayout, defaultVmSelectorOf } from '../zk/schema.ts';
import { ZkStore } from '../zk/store.ts';
import { requestPrimary, requestSecondary, type HandoverOptions, type HandoverResult } from './handover.ts';
import { readAllNodeFacts, readNodeFacts, readPrimary } from './read.ts';
import { listFaults, readMaintenance } from './ha.ts';
import { countNodes, nodeView, nodeViews, type ClusterStatusView, type NodeView, type ZkServerMode, type ZkServerView } from './views.ts';

/** Where a cluster is and who we are to it; a saved connection (common/connections.ts) is one. */
export interface ClusterTarget {
  /** host:port[,host:port...] */
  hosts: string;
  cluster: string;
  user: string;
  password: string;
  sessionTimeoutMs?: number;
}

export interface ClientOptions {
  /** How long to try for a first session before saying the cluster is unreachable. */
  connectTimeoutMs?: number;
  /** How long one ZooKeeper request may take. */
  requestTimeoutMs?: number;
  /** How long each server has to answer the `srvr` four-letter word in clusterStatus. */
  fourLetterTimeoutMs?: number;
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

/** A person waits on these: short enough that a dead cluster is reported in seconds. */
export const CLIENT_CONNECT_TIMEOUT_MS = 3_000;
export const CLIENT_REQUEST_TIMEOUT_MS = 5_000;
/** A client holds no ephemerals, so its session may be short; the ensemble clamps it to its range. */
export const CLIENT_SESSION_TIMEOUT_MS = 10_000;
export const FOUR_LETTER_TIMEOUT_MS = 1_000;

/** Connects, checks the cluster exists with a schema this code knows, and returns a client. */
export async function openCluster(target: ClusterTarget, options: ClientOptions = {}): Promise<PvcClient> {
  parseZkHosts(target.hosts); // a malformed string fails here, naming the bad part, not after a timeout
  const layout = new ZkLayout(target.cluster);
  const store = await ZkStore.connect({
    hosts: target.hosts,
    auth: { user: target.user, password: target.password },
    sessionTimeoutMs: target.sessionTimeoutMs ?? CLIENT_SESSION_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? CLIENT_CONNECT_TIMEOUT_MS,
    requestTimeoutMs: options.requestTimeoutMs ?? CLIENT_REQUEST_TIMEOUT_MS,
    onEvent: options.onEvent,
  });
  try {
    const schemaVersion = await checkSchema(store, layout);
    return new PvcClient(store, layout, schemaVersion, options.fourLetterTimeoutMs ?? FOUR_LETTER_TIMEOUT_MS);
  } catch (error) {
    await store.close();
    throw error;
  }
}

export class PvcClient {
  constructor(
    readonly store: ZkStore,
    readonly layout: ZkLayout,
    readonly schemaVersion: number,
    private readonly fourLetterTimeoutMs: number,
  ) {}

  get cluster(): string {
    return this.layout.cluster;
  }

  async listNodes(): Promise<NodeView[]> {
    const [facts, primary] = await Promise.all([readAllNodeFacts(this.store, this.layout), readPrimary(this.store, this.layout)]);
    return nodeViews(facts, primary?.value.node ?? null);
  }

  async nodeInfo(name: string): Promise<NodeView> {
    assertName('node', name);
    const [facts, primary, bmc] = await Promise.all([readNodeFacts(this.store, this.layout, name), readPrimary(this.store, this.layout), this.store.get(this.layout.nodeBmc(name))]);
    if (!facts) throw new PvcError('not-found', `node ${name} not found in cluster ${this.cluster}`);
    // Only the public part: a password left in an older document is not passed on.
    const shownBmc = bmc ? { host: bmc.value.host, port: bmc.value.port, username: bmc.value.username } : null;
    return { ...nodeView(facts, primary?.value.node ?? null), bmc: shownBmc };
  }

  async clusterStatus(): Promise<ClusterStatusView> {
    const [facts, primary, zookeeper, info, maintenance, faults] = await Promise.all([
      readAllNodeFacts(this.store, this.layout),
      readPrimary(this.store, this.layout),
      this.zookeeperServers(),
      this.store.get(this.layout.clusterInfo()),
      readMaintenance(this.store, this.layout),
      listFaults(this.store, this.layout),
    ]);
    const primaryNode = primary?.value.node ?? null;
    const defaultVmSelector = info ? defaultVmSelectorOf(info.value) : DEFAULT_VM_SELECTOR;
    const open = faults.filter((f) => f.ackedAtMs === null).map(({ id, kind, node, message, atMs }) => ({ id, kind, node, message, atMs }));
    return { cluster: this.cluster, schemaVersion: this.schemaVersion, primary: primaryNode, nodes: countNodes(nodeViews(facts, primaryNode)), zookeeper, defaultVmSelector, maintenance, faults: open };
  }

  requestPrimary(name: string, options: HandoverOptions): Promise<HandoverResult> {
    return requestPrimary(this.store, this.layout, name, options);
  }

  requestSecondary(name: string, options: HandoverOptions): Promise<HandoverResult> {
    return requestSecondary(this.store, this.layout, name, options);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** Each server of the connection and its role, asked of all of them at once. */
  private async zookeeperServers(): Promise<ZkServerView[]> {
    const { fourLetterWord, parseServerMode } = await import('../zk/four-letter.ts');
    return Promise.all(
      parseZkHosts(this.store.hosts).map(async ({ host, port }): Promise<ZkServerView> => {
        const server = `${host}:${port}`;
        let answer: string;
        try {
          answer = await fourLetterWord(host, port, 'srvr', this.fourLetterTimeoutMs);
        } catch {
          return { server, mode: 'unreachable' };
        }
        const mode: ZkServerMode = parseServerMode(answer) ?? 'not-serving';
        return { server, mode };
      }),
    );
  }
}
