// `pvc node flush|ready`: a node's VMs moved away for maintenance, and back.
//
// flush: the node's desired domain state becomes `flush`; the primary's placement then gives each
//   of its running VMs another node (a temporary migration: lastNode remembers this node) and
//   the VMs move by live migration or by stop and start, as each allows.
// ready: the desired domain state becomes `ready` again; VMs whose lastNode is this node come back
//   (unmigrate), and VMs of this node marked autostart that are stopped are started. Both happen
//   here, once, at the request: the primary must not pull back a VM someone migrated on purpose.
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import type { NodeDesiredDomainState, VmSpec, VmState, ZkLayout } from '../zk/schema.ts';
import { SKIP, type ZkStore } from '../zk/store.ts';
import { readAllVmFacts, type VmFacts } from './vm-read.ts';

/** Desired states in which a VM runs (and so is moved off a flushed node). */
const RUNNING_DESIRED: ReadonlySet<VmState> = new Set(['start', 'restart', 'migrate', 'unmigrate']);
/** Reported states in which a VM may still be running on the node that reported them. */
const MAYBE_RUNNING: ReadonlySet<VmState> = new Set(['start', 'restart', 'migrate', 'unmigrate', 'provision']);
const WAIT_POLL_MS = 250;

export interface NodeDomainResult {
  node: string;
  domainState: NodeDesiredDomainState;
  /** VMs asked to come back (ready only). */
  returning: string[];
  /** Stopped autostart VMs asked to start (ready only). */
  autostarted: string[];
  /** Whether the move finished within the wait (true when not waiting for nothing to move). */
  done: boolean;
  elapsedMs: number;
}

export interface NodeDomainOptions {
  waitMs: number;
  /** Told what is still to move whenever that changes, while waiting. */
  onProgress?: (line: string) => void;
}

export async function setNodeDomainState(store: ZkStore, layout: ZkLayout, name: string, wanted: NodeDesiredDomainState, options: NodeDomainOptions): Promise<NodeDomainResult> {
  assertName('node', name);
  const startedAt = Date.now();
  const spec = await store.get(layout.node(name));
  if (!spec) throw new PvcError('not-found', `node ${JSON.stringify(name)} not found`);
  await store.update(layout.node(name), (current) => (current === undefined || (current.domainState ?? 'ready') === wanted ? SKIP : { ...current, domainState: wanted }));

  const returning: string[] = [];
  const autostarted: string[] = [];
  if (wanted === 'ready') {
    for (const vm of await readAllVmFacts(store, layout)) {
      const current = vm.spec.value;
      if (current.lastNode === name) {
        const changed = await casVm(store, layout, vm, (s) => (s.lastNode === name ? { ...s, node: name, lastNode: null, desiredState: RUNNING_DESIRED.has(s.desiredState) ? 'unmigrate' : s.desiredState } : null));
        if (changed) returning.push(current.name);
      } else if (current.node === name && current.placement.autostart && (current.desiredState === 'stop' || current.desiredState === 'shutdown')) {
        const changed = await casVm(store, layout, vm, (s) => (s.node === name && (s.desiredState === 'stop' || s.desiredState === 'shutdown') ? { ...s, desiredState: 'start' } : null));
        if (changed) autostarted.push(current.name);
      }
    }
  }
  let lastProgress = '';
  const report = (pending: string[]): void => {
    const line = pending.length === 0 ? `node ${name}: nothing left to move` : `node ${name}: ${pending.length} vm(s) still to move: ${pending.slice(0, 8).join(', ')}${pending.length > 8 ? ', ...' : ''}`;
    if (line !== lastProgress) options.onProgress?.(line);
    lastProgress = line;
  };
  const settled = async (): Promise<boolean> => {
    const pending = await pendingFor(store, layout, name, wanted, returning);
    report(pending);
    return pending.length === 0;
  };
  const done = options.waitMs > 0 ? await waitUntil(settled, options.waitMs) : false;
  if (options.waitMs > 0 && !done) {
    throw new PvcError('timeout', `node ${name} is not ${wanted === 'flush' ? 'flushed' : 'ready with its vms back'} after ${options.waitMs} ms; the request stands and goes on`);
  }
  return { node: name, domainState: wanted, returning, autostarted, done, elapsedMs: Date.now() - startedAt };
}

/**
 * The VMs still to move. Flush: those that want to run on the node or report running there
 * (none left: flushed). Ready: the returning VMs that do not run there yet.
 */
async function pendingFor(store: ZkStore, layout: ZkLayout, name: string, wanted: NodeDesiredDomainState, returning: readonly string[]): Promise<string[]> {
  const vms = await readAllVmFacts(store, layout);
  if (wanted === 'flush') {
    return vms
      .filter((vm) => (vm.spec.value.node === name && RUNNING_DESIRED.has(vm.spec.value.desiredState)) || (vm.status?.node === name && MAYBE_RUNNING.has(vm.status.state)))
      .map((vm) => vm.spec.value.name);
  }
  const back = new Set(returning);
  return vms
    .filter((vm) => back.has(vm.spec.value.name) && !(vm.status?.node === name && (vm.status.state === 'start' || !RUNNING_DESIRED.has(vm.spec.value.desiredState))))
    .map((vm) => vm.spec.value.name);
}

async function casVm(store: ZkStore, layout: ZkLayout, vm: VmFacts, change: (spec: VmSpec) => VmSpec | null): Promise<boolean> {
  let changed = false;
  await store.update(layout.vm(vm.spec.value.name), (current) => {
    const next = current ? change(current) : null;
    changed = next !== null;
    return next ?? SKIP;
  });
  return changed;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  // Polled: the condition spans every VM of the cluster, more than a handful of watches.
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
  return check();
}
