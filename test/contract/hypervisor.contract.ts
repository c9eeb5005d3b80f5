// The hypervisor driver contract: one suite, run against the simulation (hypervisor-sim.test.ts)
// and against real libvirtd + QEMU (hypervisor-libvirt.test.ts), so the simulation cannot drift
// from what libvirt does. Tests run in order and share domains, so that the real run boots as
// few guests as possible (each boot is ~7 s of TCG).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HypervisorError, type HypervisorDriver, type HypervisorErrorKind, type MigrationTarget } from '../../daemon/drivers/hypervisor/port.ts';
import { waitFor } from '../helpers/wait.ts';

export interface HypervisorHarness {
  /** Two nodes of one world: live migration goes from the first to the second. */
  nodes: readonly [HypervisorDriver, HypervisorDriver];
  /** How the first node reaches the second for a migration. */
  targetOf(index: 0 | 1): Promise<MigrationTarget>;
  /** XML of a guest that stays up and reacts to the ACPI power button, for a domain on node `index`. */
  guestXml(name: string, uuid: string, index: 0 | 1): string;
  /** Resolves once the guest reacts to the power button (the real guest: its acpid runs). */
  waitGuestReady(name: string, index: 0 | 1): Promise<void>;
  /** Bound for a state change to show (a real ACPI shutdown takes ~2 s, more on a busy machine). */
  stateTimeoutMs: number;
  migrationTimeoutMs: number;
  stop(): Promise<void>;
}

/** Waits for the domain's state; returns its reason. */
async function waitState(driver: HypervisorDriver, name: string, state: string, timeoutMs: number): Promise<string> {
  return waitFor(`${name} ${state}`, async () => {
    const status = await driver.domainState(name);
    return status.state === state ? status.reason : null;
  }, timeoutMs);
}

async function expectError(call: Promise<unknown>, kind: HypervisorErrorKind, domain: string | null): Promise<HypervisorError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HypervisorError);
  const hypervisorError = error as HypervisorError;
  expect({ kind: hypervisorError.kind, domain: hypervisorError.domain }).toEqual({ kind, domain });
  if (domain !== null) expect(hypervisorError.message).toContain(domain);
  return hypervisorError;
}

export interface ContractOptions {
  /** Per test: the real run boots TCG guests, which takes seconds to minutes on a busy machine. */
  testTimeoutMs?: number;
  /** For creating the harness (starting real daemons). */
  setupTimeoutMs?: number;
}

export function hypervisorContract(label: string, createHarness: () => Promise<HypervisorHarness>, options: ContractOptions = {}): void {
  describe(`hypervisor driver contract: ${label}`, { timeout: options.testTimeoutMs }, () => {
    let h: HypervisorHarness;
    let a: HypervisorDriver;
    let b: HypervisorDriver;
    const vm = 'contract-vm1';
    const vmUuid = '7c0a11e1-0000-4000-8000-000000000001';
    const mover = 'contract-mover';
    const moverUuid = '7c0a11e1-0000-4000-8000-000000000002';

    beforeAll(async () => {
      h = await createHarness();
      [a, b] = h.nodes;
    }, options.setupTimeoutMs);

    afterAll(async () => {
      await h?.stop();
    }, options.setupTimeoutMs);

    it('reports the host: cpus and memory', async () => {
      const host = await a.hostInfo();
      expect(host.cpus).toBeGreaterThanOrEqual(1);
      expect(host.memoryMiB).toBeGreaterThan(0);
    });

    it('sets a ceph secret, again with a new key, and refuses a key that is not base64', async () => {
      const secret = { uuid: '5ec7e7a1-0000-4000-8000-00000000ce9f', usageName: 'client.admin secret', keyBase64: 'QVFEYk1UWm1BQUFBQUJBQW9uZUd0aGVrZXk9PQ==' };
      await a.setCephSecret(secret);
      await a.setCephSecret({ ...secret, keyBase64: 'QVFEYk1UWm1BQUFBQUJBQW5ld2tleQ==' });
      await expectError(a.setCephSecret({ ...secret, keyBase64: 'not base64!' }), 'invalid-xml', null);
    });

    it('define -> the domain is listed, shut off, with its uuid and sizes', async () => {
      expect(await a.define(h.guestXml(vm, vmUuid, 0))).toEqual({ name: vm, uuid: vmUuid });
      expect((await a.listDomains()).filter((d) => d.name === vm)).toEqual([{ name: vm, uuid: vmUuid, state: 'shutoff' }]);
      expect(await a.domainState(vm)).toEqual({ state: 'shutoff', reason: 'unknown' });
      expect(await a.domainInfo(vm)).toMatchObject({ name: vm, uuid: vmUuid, state: 'shutoff', vcpus: 1, maxMemoryKiB: 128 * 1024, persistent: true });
      const xml = await a.dumpXml(vm);
      expect(xml).toContain(`<name>${vm}</name>`);
      expect(xml).toContain(`<uuid>${vmUuid}</uuid>`);
    });

    it('define again with the same name and uuid updates; another uuid is refused', async () => {
      expect(await a.define(h.guestXml(vm, vmUuid, 0))).toEqual({ name: vm, uuid: vmUuid });
      await expectError(a.define(h.guestXml(vm, '7c0a11e1-0000-4000-8000-0000000000ff', 0)), 'invalid-state', vm);
    });

    it('refuses XML that is not a domain', async () => {
      await expectError(a.define(`<domain type='qemu'><name>contract-bad</name></domain>`), 'invalid-xml', 'contract-bad');
    });

    it('start -> running (booted); a second start is refused', async () => {
      await a.start(vm);
      expect(await a.domainState(vm)).toEqual({ state: 'running', reason: 'booted' });
      expect((await a.listDomains()).find((d) => d.name === vm)?.state).toBe('running');
      await expectError(a.start(vm), 'invalid-state', vm);
    });

    it('stats of a running domain: its defined memory and CPU time; an unknown domain is not found', async () => {
      const stats = await a.domainStats(vm);
      expect(stats.memoryMiB).toBe(128);
      expect(stats.cpuTimeMs).toBeGreaterThanOrEqual(0);
      for (const value of Object.values(stats)) expect(Number.isInteger(value) && value >= 0).toBe(true);
      const ghost = 'contract-no-such-vm';
      await expectError(a.domainStats(ghost), 'not-found', ghost);
    });

    it('shutdown of a guest that reacts to ACPI -> shut off (shutdown)', async () => {
      await h.waitGuestReady(vm, 0);
      await a.shutdown(vm);
      expect(await waitState(a, vm, 'shutoff', h.stateTimeoutMs)).toBe('shutdown');
      await expectError(a.shutdown(vm), 'invalid-state', vm);
    });

    it('destroy -> shut off (destroyed) when it returns; destroying a stopped domain is refused', async () => {
      await a.start(vm);
      await a.destroy(vm);
      expect(await a.domainState(vm)).toEqual({ state: 'shutoff', reason: 'destroyed' });
      await expectError(a.destroy(vm), 'invalid-state', vm);
      // A stopped domain uses no CPU; it keeps its memory size.
      expect(await a.domainStats(vm)).toMatchObject({ cpuTimeMs: 0, memoryMiB: 128 });
    });

    it('undefine -> gone', async () => {
      await a.undefine(vm);
      expect((await a.listDomains()).map((d) => d.name)).not.toContain(vm);
      await expectError(a.domainState(vm), 'not-found', vm);
    });

    it('errors for unknown domains name the domain', async () => {
      const ghost = 'contract-no-such-vm';
      await expectError(a.domainState(ghost), 'not-found', ghost);
      await expectError(a.domainInfo(ghost), 'not-found', ghost);
      await expectError(a.start(ghost), 'not-found', ghost);
      await expectError(a.shutdown(ghost), 'not-found', ghost);
      await expectError(a.destroy(ghost), 'not-found', ghost);
      await expectError(a.undefine(ghost), 'not-found', ghost);
      await expectError(a.dumpXml(ghost), 'not-found', ghost);
      await expectError(a.lastJobInfo(ghost), 'not-found', ghost);
      await expectError(a.domainStats(ghost), 'not-found', ghost);
      await expectError(a.migrateLive(ghost, await h.targetOf(1), { timeoutMs: h.migrationTimeoutMs }), 'not-found', ghost);
    });

    it('migrating a stopped domain is refused and leaves it in place', async () => {
      await a.define(h.guestXml(mover, moverUuid, 0));
      await expectError(a.migrateLive(mover, await h.targetOf(1), { timeoutMs: h.migrationTimeoutMs }), 'invalid-state', mover);
      expect((await a.listDomains()).find((d) => d.name === mover)?.state).toBe('shutoff');
    });

    it('live migration moves the domain: gone from the source, running and persistent on the target, with job info', async () => {
      await a.start(mover);
      await h.waitGuestReady(mover, 0);
      const destinationXml = h.guestXml(mover, moverUuid, 1);
      await a.migrateLive(mover, await h.targetOf(1), { timeoutMs: h.migrationTimeoutMs, maxDowntimeMs: 100, destinationXml });
      expect((await a.listDomains()).map((d) => d.name)).not.toContain(mover);
      expect((await b.listDomains()).filter((d) => d.name === mover)).toEqual([{ name: mover, uuid: moverUuid, state: 'running' }]);
      expect(await b.domainState(mover)).toEqual({ state: 'running', reason: 'migrated' });
      expect((await b.domainInfo(mover)).persistent).toBe(true);
      const job = await b.lastJobInfo(mover);
      expect(job).toMatchObject({ operation: 'incoming migration' });
      expect(job?.downtimeMs).toBeGreaterThanOrEqual(0);
      expect(job?.timeElapsedMs).toBeGreaterThanOrEqual(0);
      // The statistics survive being read.
      expect(await b.lastJobInfo(mover)).toEqual(job);
    });

    it('the migrated domain keeps running on the target and stops there', async () => {
      expect((await b.domainState(mover)).state).toBe('running');
      await b.destroy(mover);
      await b.undefine(mover);
      expect((await b.listDomains()).map((d) => d.name)).not.toContain(mover);
      expect((await a.listDomains()).map((d) => d.name)).not.toContain(mover);
    });
  });
}
