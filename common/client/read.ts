// Reads of cluster state shared by the client's operations: each returns raw documents, and
// views.ts turns them into what is shown.
import { PvcError } from '../errors.ts';
import { isValidName } from '../names.ts';
import { parseCandidateName, type CandidateName, type Primary, type ZkLayout } from '../zk/schema.ts';
import type { Versioned, ZkStore } from '../zk/store.ts';
import type { NodeFacts } from './views.ts';

/** More nodes than a pvc cluster is built for; a listing past it says the tree is wrong. */
export const NODES_MAX = 1_000;

export async function readPrimary(store: ZkStore, layout: ZkLayout): Promise<Versioned<Primary> | null> {
  return store.get(layout.primary());
}

/** The facts of one node, or null when it is not registered. */
export async function readNodeFacts(store: ZkStore, layout: ZkLayout, name: string): Promise<NodeFacts | null> {
  // The three reads go out together: one round trip on the session's pipelined connection.
  const [spec, status, alive, fence] = await Promise.all([
    store.get(layout.node(name)),
    store.get(layout.nodeStatus(name)),
    store.stat(layout.nodeAlive(name)),
    store.get(layout.nodeFence(name)),
  ]);
  if (!spec) return null;
  return { spec: spec.value, status: status?.value ?? null, alive: alive !== null, aliveSession: alive?.ephemeralOwner ?? null, fence: fence?.value ?? null };
}

export async function readAllNodeFacts(store: ZkStore, layout: ZkLayout): Promise<NodeFacts[]> {
  const names = await store.children(layout.nodesDir());
  if (names.length > NODES_MAX) {
    throw new PvcError('corrupt', `${layout.nodesDir().path} has ${names.length} children, more than the ${NODES_MAX} pvc supports`);
  }
  for (const name of names) {
    if (!isValidName(name)) throw new PvcError('corrupt', `${layout.nodesDir().path} holds ${JSON.stringify(name)}, which is not a valid node name`);
  }
  const facts = await Promise.all(names.map((name) => readNodeFacts(store, layout, name)));
  // A node removed between the listing and its read is simply gone.
  return facts.filter((f): f is NodeFacts => f !== null);
}

export interface ElectionCandidate {
  /** The sequential child's name (<node>_0000000012); lower sequence numbers are ahead. */
  child: string;
  node: string;
  seq: number;
}

/** The coordinators taking part in the election now, in election order (read from the child names). */
export async function readCandidates(store: ZkStore, layout: ZkLayout): Promise<ElectionCandidate[]> {
  const candidates: ElectionCandidate[] = [];
  for (const child of await store.children(layout.electionDir())) {
    let parsed: CandidateName;
    try {
      parsed = parseCandidateName(child);
    } catch {
      continue; // not a candidate: nothing else belongs here, but it is not the client's to judge
    }
    candidates.push({ child, node: parsed.node, seq: parsed.seq });
  }
  return candidates.sort((a, b) => a.seq - b.seq);
}
