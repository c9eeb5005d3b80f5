// A VM definition as a user writes it (YAML or JSON) turned into the VmSpec stored in ZooKeeper:
// defaults filled in, a uuid and MACs made up where none were given, and every mistake
// refused with a bad-input error that names the field and the wrong value. Pure apart from the
// random source, which callers (and tests) pass in.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PvcError, errorMessage } from '../errors.ts';
import {
  DEFAULT_MAX_DOWNTIME_MS,
  MIGRATION_METHODS,
  VM_SELECTORS,
  VmSpecDoc,
  type VmNic,
  type VmSpec,
} from '../zk/vm-schema.ts';
import { describeIssues } from './describe-issues.ts';
import { generateMac, generateUuid, type RandomBytes } from './random-ids.ts';
import { validateRawXml } from './raw-xml.ts';

/** The states a definition may ask for; the others are reached through state changes. */
export const DEFINE_STATES = ['start', 'stop', 'disable'] as const;
/** A new VM waits to be started unless the definition says otherwise. */
export const DEFAULT_DEFINE_STATE = 'stop';
/** A definition file larger than this is not a VM definition. */
export const DEFINITION_MAX_BYTES = 512 * 1024;
/** Draws of a random MAC before giving up on one that collides with the VM's other NICs. */
export const MAC_GENERATION_ATTEMPTS = 16;

/**
 * The input's shape: the spec's fields, most of them optional. Values are checked loosely here
 * (strings are strings) and strictly by VmSpecDoc on the result, so each rule lives in one place.
 */
const DefinitionInput = z.strictObject({
  name: z.string(),
  uuid: z.string().optional(),
  vcpus: z.number().optional(),
  memoryMiB: z.number().optional(),
  disks: z.array(z.unknown()).optional(),
  nics: z.array(z.strictObject({ network: z.string(), mac: z.string().optional() })).optional(),
  boot: z.unknown().optional(),
  serial: z.strictObject({ log: z.boolean() }).optional(),
  placement: z
    .strictObject({
      nodeLimit: z.array(z.string()).optional(),
      selector: z.enum(VM_SELECTORS).nullable().optional(),
      autostart: z.boolean().optional(),
      migrationMethod: z.enum(MIGRATION_METHODS).optional(),
      maxDowntimeMs: z.number().optional(),
    })
    .optional(),
  tags: z.array(z.string()).optional(),
  desiredState: z.enum(DEFINE_STATES).optional(),
  /** Pins the VM to a node; without it placement chooses. */
  node: z.string().nullable().optional(),
  rawXml: z.string().optional(),
});
type DefinitionInput = z.infer<typeof DefinitionInput>;

function refuse(input: unknown, why: string): never {
  const name = (input as { name?: unknown } | null)?.name;
  const which = typeof name === 'string' ? ` ${JSON.stringify(name)}` : '';
  throw new PvcError('bad-input', `invalid vm definition${which}: ${why}`);
}

/** Parses a definition file's text; YAML is a superset of JSON, so one parser reads both. */
export function parseDefinitionText(text: string): unknown {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > DEFINITION_MAX_BYTES) throw new PvcError('bad-input', `invalid vm definition: ${bytes} bytes, more than the ${DEFINITION_MAX_BYTES} allowed`);
  try {
    return parseYaml(text, { uniqueKeys: true });
  } catch (error) {
    throw new PvcError('bad-input', `invalid vm definition: not yaml or json: ${errorMessage(error).split('\n')[0]}`);
  }
}

function nicsWithMacs(nics: DefinitionInput['nics'], random: RandomBytes): VmNic[] {
  const given = (nics ?? []).map((nic) => ({ network: nic.network, mac: nic.mac?.toLowerCase() }));
  const taken = new Set(given.flatMap((nic) => (nic.mac ? [nic.mac] : [])));
  return given.map((nic) => {
    if (nic.mac) return { network: nic.network, mac: nic.mac };
    for (let attempt = 0; attempt < MAC_GENERATION_ATTEMPTS; attempt += 1) {
      const mac = generateMac(random);
      if (!taken.has(mac)) {
        taken.add(mac);
        return { network: nic.network, mac };
      }
    }
    throw new PvcError('refused', `could not make up a mac for the nic on ${JSON.stringify(nic.network)} in ${MAC_GENERATION_ATTEMPTS} draws; give one`);
  });
}

/** With raw XML, the XML is the truth: memory, vcpus and uuid come from it, and must agree when also given. */
function rawXmlFacts(input: DefinitionInput): { uuid?: string; memoryMiB?: number; vcpus?: number } {
  if (input.rawXml === undefined) return { uuid: input.uuid?.toLowerCase(), memoryMiB: input.memoryMiB, vcpus: input.vcpus };
  const clashing = (['disks', 'nics', 'boot'] as const).filter((key) => input[key] !== undefined);
  if (clashing.length > 0) refuse(input, `give either rawXml or ${clashing.join(', ')}, not both: the raw xml describes the devices`);
  const facts = validateRawXml(input.rawXml, input.name);
  if (facts.uuid === null) refuse(input, 'rawXml needs a <uuid>: pvc finds the domain on its node by it');
  const given = { uuid: input.uuid?.toLowerCase(), memoryMiB: input.memoryMiB, vcpus: input.vcpus };
  for (const key of ['uuid', 'memoryMiB', 'vcpus'] as const) {
    if (given[key] !== undefined && given[key] !== facts[key]) {
      refuse(input, `${key} is ${JSON.stringify(given[key])} but the raw xml says ${JSON.stringify(facts[key])}`);
    }
  }
  return { uuid: facts.uuid, memoryMiB: facts.memoryMiB, vcpus: facts.vcpus };
}

/** Validates a parsed definition and returns the spec to store. */
export function vmSpecFromDefinition(input: unknown, random: RandomBytes): VmSpec {
  const shape = DefinitionInput.safeParse(input);
  if (!shape.success) refuse(input, describeIssues(shape.error.issues, input));
  const def = shape.data;
  const facts = rawXmlFacts(def);
  const candidate = {
    name: def.name,
    uuid: facts.uuid ?? generateUuid(random),
    vcpus: facts.vcpus,
    memoryMiB: facts.memoryMiB,
    disks: def.disks ?? [],
    nics: nicsWithMacs(def.nics, random),
    boot: def.boot ?? { kind: 'disk' },
    serial: def.serial ?? { log: true },
    placement: {
      nodeLimit: def.placement?.nodeLimit ?? [],
      selector: def.placement?.selector ?? null,
      autostart: def.placement?.autostart ?? false,
      migrationMethod: def.placement?.migrationMethod ?? 'live',
      maxDowntimeMs: def.placement?.maxDowntimeMs ?? DEFAULT_MAX_DOWNTIME_MS,
    },
    tags: def.tags ?? [],
    desiredState: def.desiredState ?? DEFAULT_DEFINE_STATE,
    node: def.node ?? null,
    lastNode: null,
    ...(def.rawXml === undefined ? {} : { rawXml: def.rawXml }),
  };
  const spec = VmSpecDoc.safeParse(candidate);
  // The candidate has the input's shape, so the issue paths point into what the user wrote.
  if (!spec.success) refuse(input, describeIssues(spec.error.issues, candidate));
  return spec.data;
}

/** Text of a definition file -> spec. */
export function vmSpecFromDefinitionText(text: string, random: RandomBytes): VmSpec {
  return vmSpecFromDefinition(parseDefinitionText(text), random);
}
