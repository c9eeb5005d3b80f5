// A multi-op transaction as a builder: the store turns the ops into one ZooKeeper multi.
import { encode } from './codec.ts';
import type { ZRef } from './schema.ts';

export type CreateKind = 'persistent' | 'ephemeral' | 'ephemeral-sequential';

export type TxOp =
  | { op: 'create'; path: string; data: Buffer; kind: CreateKind }
  | { op: 'set'; path: string; data: Buffer; version: number }
  | { op: 'remove'; path: string; version: number }
  | { op: 'check'; path: string; version: number };

/** A multi-op: every value validated as it is added; all apply or none does. */
export class Transaction {
  private readonly ops: TxOp[] = [];

  constructor(private readonly commitOps: (ops: TxOp[]) => Promise<string[]>) {}

  create<T>(ref: ZRef<T>, value: T, kind: CreateKind = 'persistent'): this {
    this.ops.push({ op: 'create', path: ref.path, data: encode(ref, value), kind });
    return this;
  }

  set<T>(ref: ZRef<T>, value: T, version = -1): this {
    this.ops.push({ op: 'set', path: ref.path, data: encode(ref, value), version });
    return this;
  }

  remove(ref: ZRef<unknown>, version = -1): this {
    this.ops.push({ op: 'remove', path: ref.path, version });
    return this;
  }

  check(ref: ZRef<unknown>, version = -1): this {
    this.ops.push({ op: 'check', path: ref.path, version });
    return this;
  }

  get size(): number {
    return this.ops.length;
  }

  /** Returns the created paths, in op order ('' for ops that create nothing). */
  commit(): Promise<string[]> {
    return this.commitOps(this.ops);
  }
}

