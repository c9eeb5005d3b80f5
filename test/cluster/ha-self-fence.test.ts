// Self-fence: a node without a BMC is cut off from ZooKeeper. Its pvcd runs in a network namespace
// (test/helpers/zk-netns-link.ts) whose veth then drops every packet, silently. It destroys its own guests after ha.selfFence.afterMs; the
// primary, finding no BMC to power it off, recovers by policy `recover` only once the node's
// self-fence bound (plus a margin) has passed since its last sign of life. No VM runs twice at
// any time. When the network comes back the node reports itself fenced and, with ha.autoReturn,
// the primary returns it to service and its VMs come back.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ZkStore } from '../../common/zk/store.ts';
import { HaCluster } from '../helpers/ha-cluster.ts';
import { ZkNetnsLink } from '../helpers/zk-netns-link.ts';
import { pidsIn } from '../../scripts/lib/netns.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';
import { requestPrimary } from '../../common/client/handover.ts';
import { listFaults } from '../../common/client/ha.ts';

const NODES = ['sf1', 'sf2', 'sf3'];
const CUT = 'sf3';
const WAIT_MS = 90_000;
let store: ZkStore;
let ha: HaCluster;
let link: ZkNetnsLink;
let vms: string[];

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
  link = await ZkNetnsLink.start(inject('zkHosts'), 'selffence', inject('testRunDir'));
  ha = await HaCluster.start({
    hosts: inject('zkHosts'),
    store,
    cluster: uniqueClusterName('haself'),
    baseDir: inject('testRunDir'),
    nodes: NODES,
    withoutBmc: [CUT],
    netns: { [CUT]: link.netns },
    bmcAddress: link.hostAddress,
    ha: { fenceFailurePolicy: 'recover', autoReturn: true, checkIntervalMs: 100, selfFence: { afterMs: 1_500 } },
    nodeSections: { [CUT]: { zookeeper: { hosts: link.hosts } } },
  });
  await ha.waitForCluster();
  vms = [...(await ha.createVms('sa', 3)), ...(await ha.createVms('sb', 3, { node: CUT }))];
  await ha.waitAllRunning(vms, WAIT_MS);
}, 120_000);

afterAll(async () => {
  await ha?.stop();
  await link?.close();
  await store?.close();
});

describe('self-fence of a node cut off from ZooKeeper', () => {
  it('destroys its own guests; the primary recovers them after the self-fence bound', async () => {
    const onCut = await ha.vmsOn(CUT, vms);
    expect(onCut.length).toBeGreaterThanOrEqual(3);
    expect(await pidsIn(link.netns)).toContain(ha.fleet.process(CUT).pid);
    // The cut node is a plain member here (a cut-off primary is the election tests' subject).
    if ((await ha.fleet.primary()) === CUT) await requestPrimary(store, ha.layout, 'sf1', { waitMs: 30_000 });
    expect(await ha.fleet.primary()).not.toBe(CUT);
    await link.cut();
    const fence = await ha.waitFence(CUT, 'fenced', WAIT_MS);
    expect(fence.reason).toBe('session-lost');
    expect(fence.steps.map((s) => [s.step, s.result])).toEqual([['power-off', 'skipped'], ['blocklist', 'skipped'], ['wait-self-fence', 'done'], ['release-vms', 'done']]);
    await ha.waitAllRunning(vms, WAIT_MS, [CUT]);
    expect(readFileSync(ha.fleet.process(CUT).logPath, 'utf8')).toContain('self-fence: zookeeper silent too long');
    expect(ha.violations).toEqual([]);
  }, 180_000);

  it('back on the network it is returned by the primary (autoReturn) and its VMs come back', async () => {
    const onCut = await ha.vmsOn(CUT, vms);
    expect(onCut).toEqual([]);
    await link.restore();
    await waitFor('the fence record removed by the primary', async () => (await ha.fence(CUT)) === null, WAIT_MS);
    await waitFor(`${CUT} back in run`, async () => (await store.get(ha.layout.nodeStatus(CUT)))?.value.daemonState === 'run', WAIT_MS);
    await waitFor('the vms that came from it back home', async () => (await ha.vmsOn(CUT, vms)).length >= 3, WAIT_MS);
    // The primary records the fault just after it returns the node: wait for it too.
    await waitFor('the return recorded as a fault', async () => (await listFaults(store, ha.layout)).some((f) => f.kind === 'recovery' && f.message.includes('returned to service (ha.autoReturn)')), WAIT_MS);
    await ha.waitAllRunning(vms, WAIT_MS);
    expect(ha.violations).toEqual([]);
  }, 180_000);
});
