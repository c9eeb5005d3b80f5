// Regression: node-zookeeper-client's Transaction turns version 0 into -1 (any version), so a
// multi-op's check, set or remove of a node never changed since its creation was unconditional.
// The store puts the asked-for version back (common/zk/store.ts commitOps); this checks all three.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { migrateSchema } from '../../common/zk/migrations.ts';
import { ZkLayout } from '../../common/zk/schema.ts';
import { isZkError, type ZkStore } from '../../common/zk/store.ts';
import { closeTrackedStores, connectStore, uniqueClusterName } from '../helpers/zk.ts';

let store: ZkStore;
let layout: ZkLayout;

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'), { sessionTimeoutMs: 20_000 });
  layout = new ZkLayout(uniqueClusterName('multiv0'));
  await migrateSchema(store, layout);
});

afterAll(async () => {
  await closeTrackedStores();
});

async function multiError(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
    return null;
  } catch (error) {
    return error;
  }
}

describe('multi-op versions', () => {
  it('holds set, remove and check to version 0', async () => {
    const dir = layout.networkAclsDir('v0');
    await store.transaction().create(layout.network('v0'), { name: 'v0', type: 'bridged', vlan: 9, device: null, mtu: null, description: '' }).create(dir, {}).commit();
    expect((await store.stat(dir))?.version).toBe(0);
    // Version 0 matches a node never changed...
    await store.transaction().check(dir, 0).set(dir, {}, 0).commit();
    expect((await store.stat(dir))?.version).toBe(1);
    // ...and no longer matches once it changed.
    for (const tx of [() => store.transaction().set(dir, {}, 0).commit(), () => store.transaction().check(dir, 0).commit(), () => store.transaction().remove(dir, 0).commit()]) {
      expect(isZkError(await multiError(tx), 'BAD_VERSION')).toBe(true);
    }
    expect(await store.stat(dir)).not.toBeNull();
  });
});
