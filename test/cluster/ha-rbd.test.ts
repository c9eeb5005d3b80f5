// High availability proven by the disk: real libvirtd + QEMU, real Ceph, real BMCs (ipmi_sim).
// The test guest runs with `diskwrite=1`: every 200 ms it writes "W <boot id> <n>" into one of
// 64 sectors of its RBD vda, in turn, and prints GUEST-WRITE-ERROR when a write fails.
//
// The dangerous case is staged: the guest's node loses its pvcd (SIGKILL) while its QEMU goes on
// writing, and its BMC does not answer, so no power off can stop that QEMU. With the `recover`
// policy (and self-fence off, as `auto` is on a node with a BMC) the primary blocklists the QEMU's
// Ceph client and then, on the blocklist alone, restarts the VM on the other node.
// Proof that the old node's writes stopped before the new start:
//   - the fence record has the blocklist step before the release of the VM (the new start);
//   - from the moment the VM is reported running on the other node, the old boot's highest record
//     number on the disk never grows, sampled for several seconds while the old QEMU still runs
//     and still tries to write every 200 ms (any write that got through would show a higher one);
//   - the old guest reports failed writes, and once the new guest has gone round all 64 sectors,
//     every record on the disk is the new boot's.
// The second case: a frozen pvcd (SIGSTOP) with a working BMC, powered off and recovered, and the
// volume's records again all the new boot's.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { VmSpec } from '../../common/zk/schema.ts';
import type { ZkStore } from '../../common/zk/store.ts';
import type { CephCliDriver } from '../../daemon/drivers/ceph/ceph-cli.ts';
import { IpmitoolDriver } from '../../daemon/drivers/ipmi/ipmitool.ts';
import { BmcFleet } from '../../scripts/lib/ipmi-bmc.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';
import { CEPH_SETUP_TIMEOUT_MS, TEST_POOL_SETTINGS, sharedCephDriver, uniqueCephName } from '../helpers/ceph.ts';
import { readConsole, waitForConsoleLine } from '../helpers/guest-domain.ts';
import { GUEST_READY_TIMEOUT_MS, startLibvirtPair, type LibvirtPair } from '../helpers/libvirt-pair.ts';
import { actOutPower, bootAndReturn } from '../helpers/ha-power.ts';
import { PvcdFleet } from '../helpers/pvcd-fleet.ts';
import { guestVmSpec } from '../helpers/vm-fixtures.ts';
import { waitFor } from '../helpers/wait.ts';
import { connectStore, uniqueClusterName } from '../helpers/zk.ts';

const NODES = ['hr1', 'hr2'] as const;
const WAIT_MS = 180_000;
const RING_SECTORS = 64;
const SECTOR_BYTES = 512;
const RING_FIRST_SECTOR = 8;
/** Enough records for the new guest to have gone round the whole ring (64 x 200 ms), with room. */
const RING_TURN_WAIT_MS = 60_000;
/** Looks at the old writer's records after the new start: 5 x 1 s is 25 of its write attempts. */
const OLD_WRITER_SAMPLES = 5;
const OLD_WRITER_SAMPLE_GAP_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let store: ZkStore;
let pair: LibvirtPair;
let bmcs: BmcFleet;
let fleet: PvcdFleet;
let ceph: CephCliDriver;
let pool: string;
let dir: string;
const consoleDirs = new Map<string, string>();
const indexOf = (node: string) => NODES.indexOf(node as (typeof NODES)[number]) as 0 | 1;
const consoleOf = (node: string, vm: string) => path.join(consoleDirs.get(node) as string, `${vm}.log`);


interface BootRecords {
  /** Sectors of the ring holding this boot's record. */
  count: number;
  /** The highest record number of this boot on the disk. */
  highest: number;
}

/** The records in the volume's ring by boot id, from a full export of the volume. */
async function ringRecords(volume: string): Promise<Map<string, BootRecords>> {
  const file = path.join(dir, `${volume}.export`);
  rmSync(file, { force: true });
  await ceph.exportVolume(pool, volume, file, { timeoutMs: 60_000 });
  const bytes = readFileSync(file);
  const boots = new Map<string, BootRecords>();
  for (let sector = RING_FIRST_SECTOR; sector < RING_FIRST_SECTOR + RING_SECTORS; sector += 1) {
    const text = bytes.subarray(sector * SECTOR_BYTES, (sector + 1) * SECTOR_BYTES).toString('latin1');
    const match = /^W (\w+) (\d+)/.exec(text);
    if (!match?.[1]) continue;
    const seen = boots.get(match[1]) ?? { count: 0, highest: 0 };
    boots.set(match[1], { count: seen.count + 1, highest: Math.max(seen.highest, Number(match[2])) });
  }
  return boots;
}

/** The boot ids of the records in the volume's ring, with how many sectors each holds. */
async function ringBoots(volume: string): Promise<Map<string, number>> {
  return new Map([...(await ringRecords(volume))].map(([boot, records]) => [boot, records.count]));
}

async function startWriter(vm: string, uuid: string): Promise<{ node: string; boot: string }> {
  const volume = `${vm}-disk`;
  const raw = path.join(dir, `${volume}.raw`);
  writeFileSync(raw, Buffer.alloc(1024 * 1024));
  await ceph.importVolume(pool, volume, raw, 'raw', { timeoutMs: 60_000 });
  const base = guestVmSpec(pair.guest, vm, uuid, true);
  const spec: VmSpec = {
    ...base,
    boot: base.boot.kind === 'kernel' ? { ...base.boot, cmdline: `${base.boot.cmdline} diskwrite=1` } : base.boot,
    disks: [{ target: 'vda', source: { type: 'rbd', pool, image: volume } }],
  };
  await store.create(fleet.layout.vm(vm), spec);
  const node = await runningNode(vm, null);
  const line = await waitForConsoleLine(consoleOf(node, vm), /GUEST-WRITER boot=\w+/, GUEST_READY_TIMEOUT_MS);
  return { node, boot: (/boot=(\w+)/.exec(line) as RegExpExecArray)[1] as string };
}

async function runningNode(vm: string, notOn: string | null): Promise<string> {
  return waitFor(`${vm} reported running${notOn ? ` elsewhere than ${notOn}` : ''}`, async () => {
    const [spec, status] = await Promise.all([store.get(fleet.layout.vm(vm)), store.get(fleet.layout.vmStatus(vm))]);
    const node = status?.value.state === 'start' && status.value.node === spec?.value.node ? status.value.node : null;
    return node !== null && node !== notOn ? node : null;
  }, WAIT_MS);
}


async function newBootOn(node: string, vm: string, oldBoot: string): Promise<string> {
  const line = await waitFor(`${vm} writing on ${node} with a new boot`, async () => {
    const found = readConsole(consoleOf(node, vm)).match(/GUEST-WRITER boot=(\w+)/g) ?? [];
    const last = found[found.length - 1]?.slice('GUEST-WRITER boot='.length);
    return last && last !== oldBoot ? last : null;
  }, GUEST_READY_TIMEOUT_MS);
  return line;
}

async function ringOnlyHas(vm: string, boot: string): Promise<string[]> {
  const boots = await waitFor('the new guest gone round the ring', async () => {
    const found = await ringBoots(`${vm}-disk`);
    return (found.get(boot) ?? 0) === RING_SECTORS ? found : null;
  }, RING_TURN_WAIT_MS);
  return [...boots.keys()];
}

beforeAll(async () => {
  store = await connectStore(inject('zkHosts'));
  const shared = await sharedCephDriver();
  ceph = shared.driver;
  pool = uniqueCephName('harbd');
  await ceph.createPool(pool, TEST_POOL_SETTINGS);
  dir = path.join(inject('testRunDir'), `harbd-${process.pid}`);
  pair = await startLibvirtPair(dir, NODES);
  fleet = new PvcdFleet(inject('zkHosts'), uniqueClusterName('harbd'), store, { baseDir: inject('testRunDir') });
  bmcs = await BmcFleet.start({ dir: path.join(dir, 'bmc'), nodes: NODES, password: 'harbd-bmc-secret', onPower: actOutPower(fleet, pair, NODES) });
  const ports = await findFreePorts(NODES.length);
  NODES.forEach((node, i) => {
    const consoleLogDir = path.join(dir, `console-${node}`);
    mkdirSync(consoleLogDir, { recursive: true });
    consoleDirs.set(node, consoleLogDir);
    const bmc = bmcs.target(node);
    fleet.start(node, 'coordinator', {
      runnables: ['placement', 'fencing'],
      hypervisor: { driver: 'libvirt', uri: pair.nodes[i]?.uri as string, migrateUri: `tcp://127.0.0.1:${ports[i]}`, consoleLogDir, shutdownTimeoutMs: 30_000 },
      sections: {
        bmc: { host: bmc.host, port: bmc.port, username: bmc.username, password: bmc.password },
        // With a BMC, self-fence `auto` is off: `recover` stands on the blocklist alone.
        ha: { checkIntervalMs: 100, fenceFailurePolicy: 'recover', ipmiTimeoutMs: 1_500, powerOffConfirmMs: 2_000 },
        ceph: { driver: 'real', conf: shared.cluster.confPath, id: 'admin', keyring: shared.cluster.adminKeyringPath },
      },
    });
  });
  await waitFor('both nodes running with their hypervisor', async () => {
    const statuses = await Promise.all(NODES.map((n) => store.get(fleet.layout.nodeStatus(n))));
    return statuses.every((s) => s?.value.hypervisor && s.value.daemonState === 'run');
  }, 120_000);
}, CEPH_SETUP_TIMEOUT_MS + 300_000);

afterAll(async () => {
  for (const node of NODES) fleet?.signal(node, 'SIGCONT');
  await fleet?.stopAll();
  await bmcs?.stop();
  await pair?.stop();
  if (pool) await ceph?.removePool(pool).catch(() => undefined);
  await store?.close();
}, 120_000);

describe('high availability with real Ceph: the disk proves the old node stopped writing', () => {
  it('pvcd SIGKILL and an unreachable BMC: the old QEMU is blocklisted before the VM starts elsewhere', async () => {
    const vm = 'hawriter1';
    const { node: first, boot: oldBoot } = await startWriter(vm, '7e570000-0000-4000-8000-0000000000b1');
    const other = NODES.find((n) => n !== first) as string;
    await waitFor('the ring holds the first boot', async () => ((await ringBoots(`${vm}-disk`)).get(oldBoot) ?? 0) > 0, 60_000);
    bmcs.setUnreachable(first, true);
    fleet.signal(first, 'SIGKILL');
    const second = await runningNode(vm, first);
    expect(second).toBe(other);
    // From the new start on, the old QEMU (still running: nothing could power it off, and still
    // trying to write every 200 ms) gets nothing onto the disk: its highest record never grows.
    const highestAtStart = (await ringRecords(`${vm}-disk`)).get(oldBoot)?.highest ?? 0;
    for (let sample = 0; sample < OLD_WRITER_SAMPLES; sample += 1) {
      await sleep(OLD_WRITER_SAMPLE_GAP_MS);
      expect((await pair.drivers[indexOf(first)].domainState(vm)).state).toBe('running');
      expect((await ringRecords(`${vm}-disk`)).get(oldBoot)?.highest ?? 0).toBeLessThanOrEqual(highestAtStart);
    }
    // The old QEMU's writes fail.
    await waitForConsoleLine(consoleOf(first, vm), /GUEST-WRITE-ERROR/, 60_000);
    const newBoot = await newBootOn(other, vm, oldBoot);
    expect(await ringOnlyHas(vm, newBoot)).toEqual([newBoot]);
    const fence = (await store.get(fleet.layout.nodeFence(first)))?.value;
    expect(JSON.stringify(fence)).toMatch(/blocklisted/);
    // The old client was cut from Ceph before the VM was released to start elsewhere.
    const steps = fence?.steps.map((s) => s.step) ?? [];
    expect(steps).toContain('release-vms');
    expect(steps.indexOf('blocklist')).toBeGreaterThanOrEqual(0);
    expect(steps.indexOf('blocklist')).toBeLessThan(steps.indexOf('release-vms'));
    expect(readConsole(consoleOf(other, vm))).not.toMatch(/GUEST-WRITE-ERROR/);
    // The BMC answers again: the machine is powered off (its QEMU with it) and booted.
    // (A thawed ipmi_sim may still carry out the fencer's queued power off: either way it ends off.)
    bmcs.setUnreachable(first, false);
    await new IpmitoolDriver().powerOff(bmcs.target(first)).catch(() => undefined);
    await waitFor(`${first} powered off`, () => bmcs.power(first) === 'off', 30_000);
    await bootAndReturn(store, fleet, bmcs, first, WAIT_MS);
  }, 400_000);

  it('a frozen pvcd (SIGSTOP) with a working BMC: powered off, the VM runs elsewhere, the disk has only the new boot', async () => {
    const vm = 'hawriter2';
    const { node: first, boot: oldBoot } = await startWriter(vm, '7e570000-0000-4000-8000-0000000000b2');
    const other = NODES.find((n) => n !== first) as string;
    fleet.signal(first, 'SIGSTOP');
    expect(await runningNode(vm, first)).toBe(other);
    expect(bmcs.power(first)).toBe('off');
    expect((await pair.drivers[indexOf(first)].listDomains()).filter((d) => d.state !== 'shutoff')).toEqual([]);
    const newBoot = await newBootOn(other, vm, oldBoot);
    expect(await ringOnlyHas(vm, newBoot)).toEqual([newBoot]);
  }, 400_000);
});
