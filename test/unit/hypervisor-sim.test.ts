// What the simulation driver adds to the contract (hypervisor-sim.test.ts): its fault settings,
// the one-world view across nodes, and transient domains. Fast and deterministic: small delays.
import { describe, expect, it } from 'vitest';
import { HypervisorError } from '../../daemon/drivers/hypervisor/port.ts';
import { SimWorld } from '../../daemon/drivers/hypervisor/sim.ts';

const xml = (name: string, extra = ''): string =>
  `<domain type='qemu'><name>${name}</name><memory unit='MiB'>128</memory><vcpu>2</vcpu><os><type>hvm</type></os><features><acpi/></features>${extra}</domain>`;

async function failure(call: Promise<unknown>): Promise<HypervisorError> {
  const error = await call.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(HypervisorError);
  return error as HypervisorError;
}

function world(timeoutMs = 50) {
  const w = new SimWorld({ timeouts: { queryMs: timeoutMs, startMs: timeoutMs, defineMs: timeoutMs } });
  return { w, a: w.addNode({ name: 'a', cpus: 4, memoryMiB: 8192 }), b: w.addNode({ name: 'b' }) };
}

describe('sim faults', () => {
  it('fails the next call with the given kind, then works again', async () => {
    const { a } = world();
    await a.define(xml('vm1'));
    a.faults.failNext(1, 'unreachable', 'cable pulled');
    const error = await failure(a.start('vm1'));
    expect({ kind: error.kind, operation: error.operation, domain: error.domain, detail: error.detail }).toEqual({ kind: 'unreachable', operation: 'start', domain: 'vm1', detail: 'cable pulled' });
    // The failed call did nothing.
    expect((await a.domainState('vm1')).state).toBe('shutoff');
    await a.start('vm1');
    expect((await a.domainState('vm1')).state).toBe('running');
  });

  it('hangs the next call until its timeout, then fails with timeout', async () => {
    const { a } = world(80);
    a.faults.hangNext();
    const started = performance.now();
    const error = await failure(a.listDomains());
    expect(error.kind).toBe('timeout');
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(await a.listDomains()).toEqual([]);
  });

  it('makes every call slow until cleared', async () => {
    const { a } = world();
    a.faults.setSlow(40);
    const started = performance.now();
    await a.hostInfo();
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    a.faults.clear();
    expect(a.faults.slowMs).toBe(0);
  });

  it('records the calls in order', async () => {
    const { a } = world();
    await a.define(xml('vm1'));
    await a.start('vm1');
    expect(a.calls).toEqual([
      { operation: 'define', domain: null },
      { operation: 'start', domain: 'vm1' },
    ]);
  });
});

describe('sim world', () => {
  it('reports node sizes and domain facts from the XML', async () => {
    const { a } = world();
    expect(await a.hostInfo()).toMatchObject({ cpus: 4, memoryMiB: 8192 });
    const ref = await a.define(xml('vm1'));
    expect(ref.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await a.domainInfo('vm1')).toMatchObject({ vcpus: 2, maxMemoryKiB: 128 * 1024, persistent: true });
    expect(await a.dumpXml('vm1')).toContain(`<uuid>${ref.uuid}</uuid>`);
  });

  it('gives the same uuids on every run (deterministic)', async () => {
    const first = await world().a.define(xml('vm1'));
    const second = await world().a.define(xml('vm1'));
    expect(second.uuid).toBe(first.uuid);
  });

  it('migration leaves the domain on exactly one node, and a timed-out one on the source', async () => {
    const w = new SimWorld({ migrationMs: 30 });
    const a = w.addNode({ name: 'a' });
    const b = w.addNode({ name: 'b' });
    await a.define(xml('vm1'));
    await a.start('vm1');
    expect((await failure(a.migrateLive('vm1', { uri: b.uri, migrateUri: null }, { timeoutMs: 10 }))).kind).toBe('timeout');
    expect(w.whereIs('vm1')).toEqual(['a']);
    await a.migrateLive('vm1', { uri: b.uri, migrateUri: null }, { timeoutMs: 1_000, maxDowntimeMs: 5 });
    expect(w.whereIs('vm1')).toEqual(['b']);
    expect(await b.lastJobInfo('vm1')).toMatchObject({ operation: 'incoming migration', timeElapsedMs: 30, downtimeMs: 5 });
    expect((await failure(b.migrateLive('vm1', { uri: 'sim://nowhere', migrateUri: null }, { timeoutMs: 1_000 }))).kind).toBe('unreachable');
  });

  it('an undefined running domain is transient: gone once it stops', async () => {
    const { a } = world();
    await a.define(xml('vm1'));
    await a.start('vm1');
    await a.undefine('vm1');
    expect((await a.domainInfo('vm1')).persistent).toBe(false);
    await a.destroy('vm1');
    expect(await a.listDomains()).toEqual([]);
  });

  it('a guest without ACPI ignores shutdown; a guest may power itself off', async () => {
    const { a } = world();
    await a.define(xml('deaf').replace('<features><acpi/></features>', ''));
    await a.start('deaf');
    await a.shutdown('deaf');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await a.domainState('deaf')).state).toBe('running');
    a.guestPowerOff('deaf');
    expect(await a.domainState('deaf')).toEqual({ state: 'shutoff', reason: 'shutdown' });
  });
});
