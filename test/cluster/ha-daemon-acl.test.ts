// Fencing with the daemon identity configured on every pvcd (zookeeper.daemonUser): each node's
// BMC password sits under the daemon-only ACL, a CLI-like store (cluster identity only) is refused
// it, and the primary's fencer still reads it and powers a SIGKILLed node off through its real
// ipmi_sim BMC. The other fault scenarios are in ha-sim.test.ts (cluster ACL only).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import { HA_BMC_PASSWORD, HaCluster } from '../helpers/ha-cluster.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';

const NODES = ['d1', 'd2', 'd3'];
const WAIT_MS = 90_000;
const daemonAuth = { user: 'pvcd-ha-acl', password: 'ha-daemon-secret-2d7e' };
let store: ZkStore;
let ha: HaCluster;
let vms: string[];

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
  ha = await HaCluster.start({
    hosts: inject('zkHosts'),
    store,
    cluster: uniqueClusterName('ha-acl'),
    baseDir: inject('testRunDir'),
    nodes: NODES,
    ha: { keepaliveStaleMs: 3_000, checkIntervalMs: 100 },
    daemonAuth,
  });
  await ha.waitForCluster();
  vms = await ha.createVms('da', 3);
  await ha.waitAllRunning(vms, WAIT_MS);
}, 120_000);

afterAll(async () => {
  await ha?.stop();
  await store?.close();
});

describe('fencing with the daemon-only BMC ACL', () => {
  it('the cluster identity reads the BMC address but is refused its password', async () => {
    for (const node of NODES) {
      const shown = await store.get(ha.layout.nodeBmc(node));
      expect(shown?.value).toMatchObject({ host: ha.bmcs.target(node).host, port: ha.bmcs.target(node).port });
      expect(shown?.value.password).toBeUndefined();
      const refused = await store.get(ha.layout.nodeBmcSecret(node)).then(
        () => 'allowed',
        (error: unknown) => (error instanceof PvcError ? error.code : String(error)),
      );
      expect(refused).toBe('not-authorized');
    }
  });

  it('a SIGKILLed node is still powered off through its BMC and fenced', async () => {
    const primary = await ha.fleet.waitForPrimary();
    const victim = NODES.find((n) => n !== primary) as string;
    ha.fleet.signal(victim, 'SIGKILL');
    const fence = await ha.waitFence(victim, 'fenced', WAIT_MS);
    expect(fence).toMatchObject({ node: victim, reason: 'session-lost', by: primary });
    expect(fence.steps.map((s) => [s.step, s.result])).toEqual([['power-off', 'done'], ['blocklist', 'skipped'], ['release-vms', 'done']]);
    expect(JSON.stringify(fence)).not.toContain(HA_BMC_PASSWORD);
    expect(ha.bmcs.power(victim)).toBe('off');
    await ha.waitAllRunning(vms, WAIT_MS, [victim]);
    expect(ha.violations).toEqual([]);
  }, 240_000);
});
