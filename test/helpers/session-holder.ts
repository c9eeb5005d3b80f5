// Fixture process for the session-expiry test: holds a ZkStore (short session) with a kept
// ephemeral and a data watch, and reports what happens as JSON lines on stdout. The test runs
// it as `node --import tsx test/helpers/session-holder.ts HOSTS CLUSTER NODE` (one PID, so
// SIGSTOP/SIGCONT reach the process that holds the session), stops it longer than its session
// timeout and checks that the store recovers on its own.
import { ZkLayout } from '../../common/zk/schema.ts';
import { ZkStore } from '../../common/zk/store.ts';
import { TEST_REQUEST_TIMEOUT_MS, TEST_SESSION_TIMEOUT_MS, testAuth } from './zk.ts';

export type HolderReport =
  | { event: 'ready'; sessionId: string; pid: number }
  | { event: 'watch'; count: number; sessionId: string }
  | { event: 'state'; state: string }
  | { event: 'session'; sessionId: string }
  | { event: 'store-event'; name: string; detail: Record<string, unknown> }
  | { event: 'fatal'; message: string };

function report(line: HolderReport): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const [hosts, cluster, node] = process.argv.slice(2);
  if (!hosts || !cluster || !node) throw new Error('usage: session-holder.ts HOSTS CLUSTER NODE');
  const layout = new ZkLayout(cluster);
  const store = await ZkStore.connect({
    hosts,
    auth: testAuth,
    sessionTimeoutMs: TEST_SESSION_TIMEOUT_MS,
    connectTimeoutMs: 10_000,
    requestTimeoutMs: TEST_REQUEST_TIMEOUT_MS,
    onEvent: (name, detail) => report({ event: 'store-event', name, detail }),
  });
  store.on('state', (state: string) => report({ event: 'state', state }));
  store.on('session', (sessionId: string) => report({ event: 'session', sessionId }));
  let count = 0;
  store.watch(layout.node(node), 'data', () => {
    count += 1;
    report({ event: 'watch', count, sessionId: store.sessionId() });
  });
  await store.keepEphemeral(layout.nodeAlive(node), () => ({ pid: process.pid, sessionId: store.sessionId() }));
  process.once('SIGTERM', () => {
    void store.close().finally(() => process.exit(0));
  });
  report({ event: 'ready', sessionId: store.sessionId(), pid: process.pid });
}

main().catch((error: unknown) => {
  report({ event: 'fatal', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
