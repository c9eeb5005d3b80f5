// `vm modify`: a new definition replaces the VM's spec as a whole, except for what the cluster
// owns: the uuid (libvirt and the node know the domain by it), the node, lastNode (placement and
// migrations) and the desired state (state commands), all kept unless the definition says
// otherwise. Written with compare-and-set on the spec's version, so a placement or a state
// change made meanwhile is merged again, never overwritten; volumes it adds are claimed in the
// same multi-op (vm-volumes.ts).
//
// A running VM is modified all the same: the node renders its domain from the spec when it
// starts it, so the change takes effect at the next start (a restart applies it now).
import { PvcError } from '../errors.ts';
import { parseDefinitionText, vmSpecFromDefinition } from '../vm/define.ts';
import { cryptoRandomBytes, type RandomBytes } from '../vm/random-ids.ts';
import type { VmSpec } from '../zk/schema.ts';
import { mustBeKnownNode } from './vm-define.ts';
import { mustReadVmFacts, type VmTarget } from './vm-read.ts';
import { vmMayBeRunning } from './vm-views.ts';
import { claimVolumes, isVersionRace, readVolumeClaims } from './vm-volumes.ts';

/** Reads and writes retried when the spec changed between them (placement, a state change). */
export const MODIFY_MAX_ATTEMPTS = 8;

export interface ModifyResult {
  name: string;
  /** false: the definition gave the spec the VM already has; nothing was written. */
  changed: boolean;
  /** The VM may be running, so the change takes effect at its next start. */
  takesEffectAtNextStart: boolean;
  spec: VmSpec;
}

type DefinitionObject = Record<string, unknown>;

function isObject(value: unknown): value is DefinitionObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The spec `input` gives the VM whose spec is `current`. Pure apart from `random` (MACs for new
 * NICs). Fields that only repeat what is stored are accepted, so that `pvc vm dump --spec`
 * output can be edited and given back: `lastNode` equal to the stored one, and a desiredState
 * equal to the stored one (which may be one a definition cannot ask for, such as shutdown).
 */
export function modifiedSpec(current: VmSpec, input: unknown, random: RandomBytes): VmSpec {
  if (!isObject(input)) return vmSpecFromDefinition(input, random); // refused there, with the usual message
  const def: DefinitionObject = { ...input };
  def.name ??= current.name;
  if (def.name !== current.name) {
    throw new PvcError('bad-input', `the definition names vm ${JSON.stringify(def.name)}, not ${JSON.stringify(current.name)}: a vm cannot be renamed`);
  }
  if ('lastNode' in def) {
    if (def.lastNode !== current.lastNode) {
      throw new PvcError('bad-input', `invalid lastNode ${JSON.stringify(def.lastNode)}: it is set by migrations, not by a definition (stored: ${JSON.stringify(current.lastNode)})`);
    }
    delete def.lastNode;
  }
  if (def.desiredState === current.desiredState) delete def.desiredState;
  if (def.uuid === undefined && def.rawXml === undefined) def.uuid = current.uuid;
  if (Array.isArray(def.nics)) def.nics = keepMacs(def.nics, current);

  const next = vmSpecFromDefinition(def, random);
  if (next.uuid !== current.uuid) {
    throw new PvcError('bad-input', `invalid uuid ${JSON.stringify(next.uuid)}: vm ${current.name} keeps its uuid ${current.uuid}`);
  }
  return {
    ...next,
    node: 'node' in def ? next.node : current.node,
    desiredState: 'desiredState' in def ? next.desiredState : current.desiredState,
    lastNode: current.lastNode,
  };
}

/**
 * A NIC given without a MAC keeps the MAC of the NIC at the same place in the stored spec, so
 * re-applying a definition file that names no MACs does not give the guest new ones.
 */
function keepMacs(nics: unknown[], current: VmSpec): unknown[] {
  const given = new Set(nics.flatMap((nic) => (isObject(nic) && typeof nic.mac === 'string' ? [nic.mac.toLowerCase()] : [])));
  return nics.map((nic, i) => {
    const old = current.nics[i];
    if (!isObject(nic) || nic.mac !== undefined || !old || given.has(old.mac)) return nic;
    given.add(old.mac);
    return { ...nic, mac: old.mac };
  });
}

export async function modifyVm(target: VmTarget, name: string, definition: string | object, random: RandomBytes = cryptoRandomBytes): Promise<ModifyResult> {
  const input = typeof definition === 'string' ? parseDefinitionText(definition) : definition;
  const { store, layout } = target;
  for (let attempt = 1; attempt <= MODIFY_MAX_ATTEMPTS; attempt += 1) {
    const facts = await mustReadVmFacts(target, name);
    const current = facts.spec.value;
    const next = modifiedSpec(current, input, random);
    const result = { name, takesEffectAtNextStart: vmMayBeRunning(facts.status), spec: next };
    if (JSON.stringify(next) === JSON.stringify(current)) return { ...result, changed: false };
    if (next.node !== null && next.node !== current.node) await mustBeKnownNode(target, next.node);
    const claims = await readVolumeClaims(target, next, current);
    const tx = claimVolumes(store.transaction().set(layout.vm(name), next, facts.spec.version), claims);
    // Placement removes the reason when it places a VM; a node given here places it too.
    if (next.node !== null && facts.unplaced) tx.remove(layout.vmUnplaced(name));
    try {
      await tx.commit();
      return { ...result, changed: true };
    } catch (error) {
      // Changed (BAD_VERSION) or the unplaced reason went (NO_NODE) since the read, or so did a
      // claimed volume (vm-volumes.ts): merge and check again.
      if (isVersionRace(error)) continue;
      throw error;
    }
  }
  throw new PvcError('conflict', `gave up modifying vm ${name}: its spec changed ${MODIFY_MAX_ATTEMPTS} times while writing`);
}
