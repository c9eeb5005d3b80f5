// Real libvirtd + QEMU (TCG) on two nodes of this machine, through the virsh driver: a guest
// boots to its console marker; it live-migrates from node A to node B and back while its
// uptime (GUEST-TICK up=N) keeps counting, so it was never rebooted; libvirt's completed job
// reports the switch-over downtime; `shutdown` powers off a guest that reacts to ACPI, leaves
// one without ACPI running, and `destroy` stops either. One node pair serves the whole file.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { HypervisorDriver } from '../../daemon/drivers/hypervisor/port.ts';
import { guestDomainXml, readConsole, tickUptimes, waitForConsoleLine } from '../helpers/guest-domain.ts';
import { GUEST_READY_TIMEOUT_MS, startLibvirtPair, type LibvirtPair } from '../helpers/libvirt-pair.ts';
import { waitFor } from '../helpers/wait.ts';

const SETUP_TIMEOUT_MS = 300_000;
const TEST_TIMEOUT_MS = 300_000;
/** A 128 MiB TCG guest moved in 0.3-9 s here; the bound is for a machine busy with other runs. */
const MIGRATION_TIMEOUT_MS = 180_000;
/** The guest prints a tick every 2 s; a few ticks' worth is plenty to see one after the move. */
const NEXT_TICK_TIMEOUT_MS = 60_000;
/** The ACPI guest powered off in ~2 s; a guest without ACPI must still run well after that. */
const IGNORED_SHUTDOWN_WATCH_MS = 6_000;
/** QEMU's default is 300 ms; the target for a 128 MiB guest is 50 ms. */
const MAX_DOWNTIME_MS = 50;

const MOVER = { name: 'it-mover', uuid: '1b7e0000-0000-4000-8000-000000000001' };
const DEAF = { name: 'it-deaf', uuid: '1b7e0000-0000-4000-8000-000000000002' };

let pair: LibvirtPair;
let a: HypervisorDriver;
let b: HypervisorDriver;

beforeAll(async () => {
  pair = await startLibvirtPair(path.join(inject('testRunDir'), 'libvirt-integration'), ['ia', 'ib']);
  [a, b] = pair.drivers;
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await pair?.stop();
}, SETUP_TIMEOUT_MS);

const xmlOn = (guest: { name: string; uuid: string }, index: 0 | 1, acpi = true): string =>
  guestDomainXml({ ...guest, guest: pair.guest, consoleLog: pair.consoleLog(guest.name, index), acpi });

async function waitState(driver: HypervisorDriver, name: string, state: string, timeoutMs: number): Promise<string> {
  return waitFor(`${name} ${state}`, async () => {
    const status = await driver.domainState(name);
    return status.state === state ? status.reason : null;
  }, timeoutMs);
}

/** The next GUEST-TICK uptime printed on this console after `after` seconds of uptime. */
async function nextTickAfter(log: string, after: number): Promise<number> {
  return waitFor(`a tick after up=${after} in ${log}`, () => tickUptimes(readConsole(log)).find((up) => up > after) ?? null, NEXT_TICK_TIMEOUT_MS);
}

describe('libvirt nodes with the test guest (QEMU TCG)', { timeout: TEST_TIMEOUT_MS }, () => {
  it('boots the guest to its console marker', async () => {
    // Both guests boot at once: the second is only needed by the last test.
    await a.define(xmlOn(MOVER, 0));
    await a.define(xmlOn(DEAF, 0, false));
    await a.start(MOVER.name);
    await a.start(DEAF.name);
    const marker = await waitForConsoleLine(pair.consoleLog(MOVER.name, 0), /GUEST-MARKER: booted kernel/, GUEST_READY_TIMEOUT_MS);
    expect(marker).toMatch(/GUEST-MARKER: booted kernel \S+-amd64/);
    expect(await a.domainState(MOVER.name)).toEqual({ state: 'running', reason: 'booted' });
  });

  it('live-migrates A -> B -> A with the uptime counting on and the downtime in the job info', async () => {
    await pair.waitGuestReady(MOVER.name, 0);
    const logA = pair.consoleLog(MOVER.name, 0);
    const logB = pair.consoleLog(MOVER.name, 1);
    const before = await nextTickAfter(logA, 0);

    await a.migrateLive(MOVER.name, await pair.targetOf(1), { timeoutMs: MIGRATION_TIMEOUT_MS, maxDowntimeMs: MAX_DOWNTIME_MS, destinationXml: xmlOn(MOVER, 1) });
    expect((await a.listDomains()).map((d) => d.name)).not.toContain(MOVER.name);
    expect(await b.domainState(MOVER.name)).toEqual({ state: 'running', reason: 'migrated' });
    const there = await nextTickAfter(logB, before);
    // No reboot: B's console never shows the boot marker, and the uptime went on from A's.
    expect(readConsole(logB)).not.toContain('GUEST-MARKER');
    expect(there).toBeGreaterThan(before);
    const toB = await b.lastJobInfo(MOVER.name);
    expect(toB).toMatchObject({ operation: 'incoming migration' });
    expect(toB?.downtimeMs).toBeGreaterThanOrEqual(0);
    expect(toB?.dataTotalBytes).toBeGreaterThan(100 * 1024 * 1024);

    await b.migrateLive(MOVER.name, await pair.targetOf(0), { timeoutMs: MIGRATION_TIMEOUT_MS, maxDowntimeMs: MAX_DOWNTIME_MS, destinationXml: xmlOn(MOVER, 0) });
    expect((await b.listDomains()).map((d) => d.name)).not.toContain(MOVER.name);
    expect(await a.domainState(MOVER.name)).toEqual({ state: 'running', reason: 'migrated' });
    const back = await nextTickAfter(logA, there);
    expect(back).toBeGreaterThan(there);
    expect(readConsole(logA).match(/GUEST-MARKER/g)).toHaveLength(1);
    const toA = await a.lastJobInfo(MOVER.name);
    expect(toA?.downtimeMs).toBeGreaterThanOrEqual(0);
    console.info(`libvirt migration: A->B ${toB?.timeElapsedMs} ms (downtime ${toB?.downtimeMs} ms), B->A ${toA?.timeElapsedMs} ms (downtime ${toA?.downtimeMs} ms)`);
  });

  it('ACPI shutdown powers off a guest that reacts; one without ACPI keeps running until destroyed', async () => {
    await pair.waitGuestReady(DEAF.name, 0);
    const started = Date.now();
    await a.shutdown(MOVER.name);
    await a.shutdown(DEAF.name);
    expect(await waitState(a, MOVER.name, 'shutoff', TEST_TIMEOUT_MS / 2)).toBe('shutdown');
    expect(readConsole(pair.consoleLog(MOVER.name, 0))).toContain('GUEST-ACPI-POWER-BUTTON');

    // Watch the guest without ACPI for a while after the ACPI guest is gone: still running.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + IGNORED_SHUTDOWN_WATCH_MS - Date.now())));
    expect((await a.domainState(DEAF.name)).state).toBe('running');
    await a.destroy(DEAF.name);
    expect(await a.domainState(DEAF.name)).toEqual({ state: 'shutoff', reason: 'destroyed' });
    expect(readConsole(pair.consoleLog(DEAF.name, 0))).not.toContain('GUEST-ACPI-POWER-BUTTON');
  });
});
