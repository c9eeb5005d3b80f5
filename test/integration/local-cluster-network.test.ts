// The local cluster's network (issue 6, item 8), end to end through the scripts: `npm run
// cluster` (without Ceph, PVC_LOCAL_CEPH=0, to keep it short) builds the node namespaces, starts
// pvcd with the `network` and `services` sections, creates the network `lan` and two "VMs" that
// take DHCP leases; the CLI shows those leases, a VM resolves the other through the primary's
// PowerDNS, again after the primary role moved; `cluster:down` leaves no namespace, FRR daemon
// or udhcpc behind. Its own cluster folder and CLI config folder, so a developer's local cluster
// (and its `pvcl-*` namespaces) is untouched: this one's namespaces are `pvcl<hash>-*`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../common/exec.ts';
import { LOCAL_NETWORK, LOCAL_VMS, netnsPrefix } from '../../scripts/lib/local-network.ts';
import { REPO_ROOT, isAlive } from '../../scripts/lib/pvcd-process.ts';
import { execIn, netnsExists } from '../helpers/netns.ts';
import { waitFor } from '../helpers/wait.ts';

// A short folder: libvirtd's unix sockets live below it and their paths are limited to 107 bytes.
const clusterRoot = mkdtempSync(path.join(os.tmpdir(), 'pvc-lcn-'));
const clusterDir = path.join(clusterRoot, 'cluster');
const configDir = mkdtempSync(path.join(os.tmpdir(), 'pvc-config-'));
const env = { ...process.env, PVC_LOCAL_CLUSTER_DIR: clusterDir, PVC_CONFIG_DIR: configDir, PVC_LOCAL_CEPH: '0', PVC_LOCAL_NETWORK: '1' } as Record<string, string>;
const prefix = netnsPrefix(clusterDir);
const WAIT_MS = 60_000;

const script = (name: string) => run(process.execPath, ['--import', 'tsx', `scripts/${name}.ts`], { timeoutMs: 300_000, cwd: REPO_ROOT, env });
const pvc = async (...args: string[]): Promise<unknown> => JSON.parse((await run(process.execPath, ['bin/pvc.js', ...args, '--format', 'json'], { timeoutMs: 30_000, cwd: REPO_ROOT, env })).stdout);

/** A name looked up from vm1 at the gateway (the primary's dnsmasq, which asks PowerDNS). */
async function resolveFromVm1(name: string): Promise<string[]> {
  const { stdout } = await execIn(`${prefix}vm1`, 'dig', ['+short', '+time=1', '+tries=1', `@${LOCAL_NETWORK.gateway}`, name], 5_000).catch(() => ({ stdout: '' }));
  return stdout.split('\n').map((l) => l.trim()).filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l));
}

/** Every PID the network part recorded or runs: FRR's pid files and the VMs' udhcpc. */
function networkPids(): number[] {
  const read = (file: string) => Number(readFileSync(file, 'utf8').trim());
  const frr = ['pvc1', 'pvc2', 'pvc3'].flatMap((node) => ['zebra', 'bgpd'].map((d) => read(path.join(clusterDir, 'network', 'frr', node, `${d}.pid`))));
  return [...frr, ...LOCAL_VMS.map((vm) => read(path.join(clusterDir, 'network', 'vms', `${vm.name}.pid`)))];
}

afterAll(async () => {
  await script('cluster-down').catch(() => undefined);
  rmSync(clusterRoot, { recursive: true, force: true });
  rmSync(configDir, { recursive: true, force: true });
});

describe('npm run cluster: the local network', () => {
  it('serves leases and names to its VM namespaces, moves with the primary, and leaves nothing behind', async () => {
    const up = await script('cluster-up');
    expect(up.stdout).toMatch(/created network lan \(vni 100, 10\.100\.0\.0\/24, gateway 10\.100\.0\.1\)/);
    expect(up.stdout).toMatch(/vm vm2 .* leased 10\.100\.0\.50/);
    expect(up.stdout).toMatch(/npx pvc network dhcp list lan/);
    const pids = networkPids();
    expect(pids.filter((pid) => !isAlive(pid))).toEqual([]);

    const networks = (await pvc('network', 'list')) as Array<{ name: string; id: number; bridge: string; ipv4Gateway: string }>;
    expect(networks).toMatchObject([{ name: 'lan', id: 100, bridge: 'vmbr100', ipv4Gateway: '10.100.0.1' }]);
    const dhcp = (await pvc('network', 'dhcp', 'list', 'lan')) as Array<{ kind: string; mac: string; ipv4: string; hostname: string | null }>;
    expect(dhcp.filter((e) => e.kind === 'reservation')).toEqual([expect.objectContaining({ mac: '52:54:00:10:00:02', ipv4: '10.100.0.50', hostname: 'vm2' })]);
    const leases = dhcp.filter((e) => e.kind === 'lease');
    expect(leases.map((l) => [l.mac, l.hostname]).sort()).toEqual([['52:54:00:10:00:01', 'vm1'], ['52:54:00:10:00:02', 'vm2']]);
    expect(leases.find((l) => l.hostname === 'vm1')?.ipv4).toMatch(/^10\.100\.0\.1\d\d$/);

    // Names come from PowerDNS on the primary, through the gateway's dnsmasq; after a handover, from the new one.
    await waitFor('vm2 by name', async () => (await resolveFromVm1(`vm2.${LOCAL_NETWORK.domain}`))[0] === '10.100.0.50', WAIT_MS);
    const { primary } = (await pvc('cluster', 'status')) as { primary: string };
    const next = ['pvc1', 'pvc2', 'pvc3'].find((n) => n !== primary) as string;
    await pvc('node', 'primary', next);
    const vm1 = leases.find((l) => l.hostname === 'vm1')?.ipv4;
    await waitFor('vm1 by name from the new primary', async () => (await resolveFromVm1(`vm1.${LOCAL_NETWORK.domain}`))[0] === vm1, WAIT_MS);

    const down = await script('cluster-down');
    expect(down.stdout).toMatch(/stopped frr of pvc1/);
    expect(down.stdout).toMatch(/deleted network namespaces/);
    await waitFor('every network process gone', () => pids.every((pid) => !isAlive(pid)));
    expect(['ul', 'pvc1', 'pvc2', 'pvc3', 'vm1', 'vm2'].map((n) => `${prefix}${n}`).filter(netnsExists)).toEqual([]);
  }, 600_000);
});
