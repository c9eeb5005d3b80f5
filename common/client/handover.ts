// Planned primary handover, the client's half. The client only records the request, the
// persistent /coordinator/handover = {from, to}, in a transaction that checks the primary lock
// still has the version it read; the daemons carry it out (the primary named in `from` lets go
// of the lock, candidates ahead of `to` step back, the new primary deletes the request) and the
// client watches /coordinator/primary until the change shows or its wait runs out.
import { performance } from 'node:perf_hooks';
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import type { Handover, ZkLayout } from '../zk/schema.ts';
import { isZkError, type ZkStore } from '../zk/store.ts';
import { readCandidates, readPrimary } from './read.ts';
import { assertWaitMs, watchUntil } from './watch-until.ts';

/** Reads and writes retried when the primary lock or the request changed under us. */
export const HANDOVER_MAX_ATTEMPTS = 8;
/** A wait longer than this is a mistake in the caller (an hour covers any real handover). */
export const HANDOVER_WAIT_MAX_MS = 3_600_000;

export interface HandoverOptions {
  /** How long to wait for the change to show; 0 returns as soon as the request is written. */
  waitMs: number;
}

export interface HandoverResult {
  /** The node the request was about. */
  node: string;
  /**
   * 'already': nothing to do, nothing written; 'requested': written, not waited for (waitMs 0);
   * 'completed': written, and the primary changed as asked within waitMs.
   */
  outcome: 'already' | 'requested' | 'completed';
  /** The primary when the request was made. */
  previousPrimary: string | null;
  /** The primary when this call returned. */
  primary: string | null;
  /** What was written to /coordinator/handover; null for 'already'. */
  request: Handover | null;
  /** A pending request that this one overwrote, if there was one. */
  replacedRequest: Handover | null;
  elapsedMs: number;
}

type Decision = { kind: 'already'; primary: string | null } | { kind: 'write'; request: Handover; primaryVersion: number; primary: string };

/** Makes `name` the primary. */
export async function requestPrimary(store: ZkStore, layout: ZkLayout, name: string, options: HandoverOptions): Promise<HandoverResult> {
  return runHandover(store, layout, name, options, decidePrimary, (primary) => primary === name);
}

/** Makes `name` give up being primary to any other candidate. */
export async function requestSecondary(store: ZkStore, layout: ZkLayout, name: string, options: HandoverOptions): Promise<HandoverResult> {
  return runHandover(store, layout, name, options, decideSecondary, (primary) => primary !== null && primary !== name);
}

async function decidePrimary(store: ZkStore, layout: ZkLayout, name: string): Promise<Decision> {
  await mustBeCoordinator(store, layout, name);
  const [primary, alive, candidates] = await Promise.all([
    readPrimary(store, layout),
    store.stat(layout.nodeAlive(name)),
    readCandidates(store, layout),
  ]);
  if (primary?.value.node === name) return { kind: 'already', primary: name };
  if (!alive) throw new PvcError('refused', `node ${name} is not alive (its pvcd holds no zookeeper session), so it cannot become primary`);
  if (!candidates.some((c) => c.node === name)) {
    throw new PvcError('refused', `node ${name} is not an election candidate (its pvcd is not in run state), so it cannot become primary`);
  }
  if (!primary) throw new PvcError('refused', `cannot make ${name} primary: no primary right now, election in progress; try again`);
  return { kind: 'write', request: { from: primary.value.node, to: name }, primaryVersion: primary.version, primary: primary.value.node };
}

async function decideSecondary(store: ZkStore, layout: ZkLayout, name: string): Promise<Decision> {
  await mustBeCoordinator(store, layout, name);
  const [primary, candidates] = await Promise.all([readPrimary(store, layout), readCandidates(store, layout)]);
  if (primary?.value.node !== name) return { kind: 'already', primary: primary?.value.node ?? null };
  if (!candidates.some((c) => c.node !== name)) {
    throw new PvcError('refused', `node ${name} stays primary: no other coordinator can take over (no other election candidate)`);
  }
  return { kind: 'write', request: { from: name, to: null }, primaryVersion: primary.version, primary: name };
}

async function mustBeCoordinator(store: ZkStore, layout: ZkLayout, name: string): Promise<void> {
  const spec = await store.get(layout.node(name));
  if (!spec) throw new PvcError('not-found', `node ${name} not found in cluster ${layout.cluster}`);
  if (spec.value.role !== 'coordinator') {
    throw new PvcError('bad-input', `node ${name} is a ${spec.value.role}, not a coordinator; only coordinators can be primary`);
  }
}

async function runHandover(
  store: ZkStore,
  layout: ZkLayout,
  name: string,
  options: HandoverOptions,
  decide: (store: ZkStore, layout: ZkLayout, name: string) => Promise<Decision>,
  reached: (primary: string | null) => boolean,
): Promise<HandoverResult> {
  assertName('node', name);
  assertWaitMs(options.waitMs, HANDOVER_WAIT_MAX_MS);
  const startMs = performance.now();
  const elapsed = (): number => Math.round(performance.now() - startMs);

  for (let attempt = 1; attempt <= HANDOVER_MAX_ATTEMPTS; attempt += 1) {
    const decision = await decide(store, layout, name);
    if (decision.kind === 'already') {
      return { node: name, outcome: 'already', previousPrimary: decision.primary, primary: decision.primary, request: null, replacedRequest: null, elapsedMs: elapsed() };
    }
    const pending = await store.get(layout.handover());
    const tx = store.transaction().check(layout.primary(), decision.primaryVersion);
    if (pending) tx.set(layout.handover(), decision.request, pending.version);
    else tx.create(layout.handover(), decision.request);
    try {
      await tx.commit();
    } catch (error) {
      // The primary lock changed (BAD_VERSION, NO_NODE) or another request was written first
      // (BAD_VERSION, NODE_EXISTS): decide again on what is there now.
      if (isZkError(error, 'BAD_VERSION') || isZkError(error, 'NO_NODE') || isZkError(error, 'NODE_EXISTS')) continue;
      throw error;
    }
    const base = { node: name, previousPrimary: decision.primary, request: decision.request, replacedRequest: pending?.value ?? null };
    if (options.waitMs === 0) return { ...base, outcome: 'requested', primary: decision.primary, elapsedMs: elapsed() };
    const primary = await waitForPrimary(store, layout, reached, startMs + options.waitMs - performance.now(), () =>
      `node ${name} ${decision.request.to === null ? 'is still primary' : 'is not primary yet'} after ${elapsed()} ms; the handover request ` +
      `{from: ${decision.request.from}, to: ${decision.request.to ?? 'null'}} is still pending at ${layout.handover().path}`,
    );
    return { ...base, outcome: 'completed', primary, elapsedMs: elapsed() };
  }
  throw new PvcError('conflict', `gave up requesting the handover for node ${name}: the primary or the pending request changed ${HANDOVER_MAX_ATTEMPTS} times while writing`);
}

/**
 * Resolves with the primary once `reached(primary)` holds, re-reading /coordinator/primary on
 * every watch event (no polling); rejects with 'timeout' after `waitMs`. The watch is set before
 * the first read, so a change between the two is never missed.
 */
export function waitForPrimary(
  store: ZkStore,
  layout: ZkLayout,
  reached: (primary: string | null) => boolean,
  waitMs: number,
  timeoutMessage: () => string,
): Promise<string> {
  return watchUntil({
    store,
    watch: [layout.primary()],
    read: async () => (await readPrimary(store, layout))?.value.node ?? null,
    judge: (primary: string | null) => (primary !== null && reached(primary) ? { kind: 'done', value: primary } : null),
    waitMs,
    timeoutMessage,
  });
}
