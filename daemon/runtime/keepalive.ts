// The keepalive: the node's status znode rewritten every keepaliveIntervalMs, and at once on
// every state change. Only this node's pvcd writes it, so a plain set (no compare) is right.
import type { Logger } from 'pino';
import { errorMessage } from '../../common/errors.ts';
import type { NodeStatus, ZRef } from '../../common/zk/schema.ts';
import { isZkError, type ZkStore } from '../../common/zk/store.ts';
import { monotonicNowMs } from './primary-lease.ts';

export class Keepalive {
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ZkStore,
    private readonly ref: ZRef<NodeStatus>,
    private readonly status: () => Omit<NodeStatus, 'keepaliveSeq' | 'updatedAtMs'>,
    private readonly intervalMs: number,
    private readonly log: Logger,
    /** Told the send time (monotonic ms) of every write ZooKeeper answered: proof of contact. */
    private readonly onWritten: (sentAtMs: number) => void = () => undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.writeNow().catch((error) => this.log.warn({ err: errorMessage(error) }, 'keepalive write failed'));
    }, this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Writes the status now; writes are queued so a later state never lands before an earlier one. */
  writeNow(): Promise<void> {
    const next = this.writing.then(() => this.write());
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async write(): Promise<void> {
    this.seq += 1;
    const doc: NodeStatus = { ...this.status(), keepaliveSeq: this.seq, updatedAtMs: Date.now() };
    const sentAtMs = monotonicNowMs();
    try {
      await this.store.set(this.ref, doc);
    } catch (error) {
      if (!isZkError(error, 'NO_NODE')) throw error;
      await this.store.create(this.ref, doc);
    }
    this.onWritten(sentAtMs);
  }
}
