// `vm define`: a user's definition (YAML or JSON text, or an already parsed object from the API)
// becomes a new /vms/<vm> spec. Validation is common/vm/define.ts's (one set of rules for every
// caller); this file adds what needs the cluster: the name must be free, a pinned node must
// exist, and each rbd disk must be a volume of its own. Created with a create (in a multi-op with
// the claims on its volumes, vm-volumes.ts), so two defines of the same name cannot both succeed.
import { PvcError } from '../errors.ts';
import { assertName } from '../names.ts';
import { DEFINE_STATES, vmSpecFromDefinition, vmSpecFromDefinitionText } from '../vm/define.ts';
import { cryptoRandomBytes, type RandomBytes } from '../vm/random-ids.ts';
import type { VmSpec, VmState } from '../zk/schema.ts';
import { isZkError } from '../zk/store.ts';
import type { VmTarget } from './vm-read.ts';
import { VOLUME_CAS_MAX_ATTEMPTS, claimVolumes, isVersionRace, readVolumeClaims } from './vm-volumes.ts';

export type DefineState = (typeof DEFINE_STATES)[number];

export interface DefineOptions {
  /** Pins the VM to this node, over the definition's `node`; without either, placement chooses. */
  node?: string;
  /** The desired state to start in, over the definition's `desiredState` (default stop). */
  state?: DefineState;
  /** Where made-up uuids and MACs come from; tests pass a fixed one. */
  random?: RandomBytes;
}

export interface DefineResult {
  name: string;
  uuid: string;
  /** null: the primary's placement will choose. */
  node: string | null;
  desiredState: VmState;
  spec: VmSpec;
}

/**
 * The spec a definition gives, validated without the cluster; a caller that shows errors to a
 * person (the CLI) runs this before connecting, so a bad file is reported at once.
 */
export function prepareVmSpec(definition: string | object, options: DefineOptions = {}): VmSpec {
  const random = options.random ?? cryptoRandomBytes;
  const parsed = typeof definition === 'string' ? vmSpecFromDefinitionText(definition, random) : vmSpecFromDefinition(definition, random);
  if (options.state !== undefined && !(DEFINE_STATES as readonly string[]).includes(options.state)) {
    throw new PvcError('bad-input', `invalid initial state ${JSON.stringify(options.state)}: use one of ${DEFINE_STATES.join(', ')}`);
  }
  if (options.node !== undefined) assertName('node', options.node);
  return { ...parsed, node: options.node ?? parsed.node, desiredState: options.state ?? parsed.desiredState };
}

/** Stores a prepared spec as a new VM: refused when the name is taken, the node unknown, or an
 *  rbd disk's volume missing, leaving or another VM's (vm-volumes.ts). The spec is created in one
 *  multi-op with the claims on its volumes; when a volume changed since it was read, all again. */
export async function createVm(target: VmTarget, spec: VmSpec): Promise<DefineResult> {
  const { store, layout } = target;
  if (spec.node !== null) await mustBeKnownNode(target, spec.node);
  for (let attempt = 1; attempt <= VOLUME_CAS_MAX_ATTEMPTS; attempt += 1) {
    const claims = await readVolumeClaims(target, spec, null);
    try {
      await claimVolumes(store.transaction().create(layout.vm(spec.name), spec), claims).commit();
      return { name: spec.name, uuid: spec.uuid, node: spec.node, desiredState: spec.desiredState, spec };
    } catch (error) {
      if (isZkError(error, 'NODE_EXISTS')) throw new PvcError('refused', `vm ${spec.name} already exists in cluster ${layout.cluster}`);
      if (isZkError(error, 'NO_NODE') && (await store.stat(layout.vmsDir())) === null) {
        // Migration 2 makes the folder; an older tree means no pvcd of this version has run yet.
        throw new PvcError('refused', `cluster ${layout.cluster} has no vm folder (${layout.vmsDir().path}): start a pvcd of this version once to migrate its schema`);
      }
      // A volume changed (BAD_VERSION) or went (NO_NODE) since its read: the next run says why.
      if (claims.length > 0 && isVersionRace(error)) continue;
      throw error;
    }
  }
  throw new PvcError('conflict', `gave up defining vm ${spec.name}: its volumes changed ${VOLUME_CAS_MAX_ATTEMPTS} times while writing`);
}

export async function defineVm(target: VmTarget, definition: string | object, options: DefineOptions = {}): Promise<DefineResult> {
  return createVm(target, prepareVmSpec(definition, options));
}

/** Refuses a node name that is not registered in the cluster. */
export async function mustBeKnownNode(target: VmTarget, node: string): Promise<void> {
  const { store, layout } = target;
  if ((await store.stat(layout.node(node))) === null) {
    throw new PvcError('bad-input', `unknown node ${JSON.stringify(node)}: not a node of cluster ${layout.cluster}`);
  }
}
