// Ordered schema migrations. Each step is idempotent (a pvcd that dies halfway leaves work the
// next one can finish) and ends by moving /schema/version up by one with compare-and-set, so
// when several pvcd start at once exactly one of them records each step.
import { PvcError } from '../errors.ts';
import { DEFAULT_MAX_FULLNESS_PERCENT, DEFAULT_VM_SELECTOR, SCHEMA_VERSION, defaultClusterNetwork, type ZkLayout } from './schema.ts';
import { SKIP, isZkError, type ZkStore } from './store.ts';

export interface Migration {
  /** The version the tree has once this step is done. */
  to: number;
  name: string;
  apply(store: ZkStore, layout: ZkLayout): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    to: 1,
    name: 'create the base tree',
    async apply(store, layout) {
      for (const dir of layout.baseDirectories()) await store.ensure(dir, {});
      await store.ensure(layout.clusterInfo(), { name: layout.cluster });
    },
  },
  {
    to: 2,
    name: 'add vms and the default vm selector',
    async apply(store, layout) {
      await store.ensure(layout.vmsDir(), {});
      // Compare-and-set, and only when absent: a selector an operator already chose stays.
      await store.update(layout.clusterInfo(), (info) =>
        info === undefined || info.defaultVmSelector !== undefined ? SKIP : { ...info, defaultVmSelector: DEFAULT_VM_SELECTOR },
      );
    },
  },
  {
    to: 3,
    name: 'add storage',
    async apply(store, layout) {
      for (const dir of layout.storageDirectories()) await store.ensure(dir, {});
      // Only when absent: a limit an operator already chose stays.
      await store.ensure(layout.storageSettings(), { maxFullnessPercent: DEFAULT_MAX_FULLNESS_PERCENT });
    },
  },
  {
    to: 4,
    name: 'add networks',
    async apply(store, layout) {
      await store.ensure(layout.networksDir(), {});
      // Only when absent: settings an operator already chose stay.
      await store.ensure(layout.clusterNetwork(), defaultClusterNetwork(layout.cluster));
    },
  },
];

/** Brings the cluster's tree to SCHEMA_VERSION, creating it when absent. Returns the version found. */
export async function migrateSchema(store: ZkStore, layout: ZkLayout, migrations: readonly Migration[] = MIGRATIONS, target = SCHEMA_VERSION): Promise<number> {
  await store.ensure(layout.namespace(), {}, 'namespace');
  const found = await store.get(layout.schemaVersion());
  const startVersion = found?.value.version ?? 0;
  refuseNewer(startVersion, target, layout);
  let current = found;
  for (const step of migrations) {
    if (step.to <= (current?.value.version ?? 0) || step.to > target) continue;
    await step.apply(store, layout);
    try {
      if (current) await store.set(layout.schemaVersion(), { version: step.to }, current.version);
      else await store.create(layout.schemaVersion(), { version: step.to });
    } catch (error) {
      // Another pvcd recorded this step first; carry on from what it wrote.
      if (!isZkError(error, 'BAD_VERSION') && !isZkError(error, 'NODE_EXISTS')) throw error;
    }
    current = await store.get(layout.schemaVersion());
    refuseNewer(current?.value.version ?? 0, target, layout);
  }
  return startVersion;
}

/** For clients: the cluster must exist and must not be newer than this code. */
export async function checkSchema(store: ZkStore, layout: ZkLayout): Promise<number> {
  const found = await store.get(layout.schemaVersion());
  if (!found) throw new PvcError('not-found', `cluster ${JSON.stringify(layout.cluster)} does not exist at ${store.hosts} (no ${layout.schemaVersion().path}); start a pvcd to create it`);
  refuseNewer(found.value.version, SCHEMA_VERSION, layout);
  return found.value.version;
}

function refuseNewer(version: number, known: number, layout: ZkLayout): void {
  if (version > known) {
    throw new PvcError(
      'schema-too-new',
      `cluster ${JSON.stringify(layout.cluster)} has schema version ${version}, newer than the ${known} this pvc knows; upgrade pvc before running it against this cluster`,
    );
  }
}
