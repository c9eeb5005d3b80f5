// The fault settings of the network simulations (links, FRR, firewall): a failure of a chosen
// kind on the next calls, a hang until the call's timeout, slowness; each used once, in order.
import { describe, expect, it } from 'vitest';
import { FirewallError } from '../../daemon/drivers/firewall/port.ts';
import { SimFirewall } from '../../daemon/drivers/firewall/sim.ts';
import { FrrError } from '../../daemon/drivers/frr/port.ts';
import { SimFrr, SimFrrWorld } from '../../daemon/drivers/frr/sim.ts';
import { LinkError } from '../../daemon/drivers/links/port.ts';
import { SimLinks } from '../../daemon/drivers/links/sim.ts';

const outcome = (call: Promise<unknown>) => call.then(() => 'ok', (e: unknown) => e);

describe('network simulation faults', () => {
  it('links: the next calls fail with the kind asked, then calls work again', async () => {
    const links = new SimLinks({ devices: ['eth0'] });
    links.faults.failNext(2, 'not-found');
    const first = await outcome(links.createBridge('vmbr1', 1500));
    expect(first).toBeInstanceOf(LinkError);
    expect((first as LinkError).kind).toBe('not-found');
    expect(await outcome(links.listLinks())).toBeInstanceOf(LinkError);
    await links.createBridge('vmbr1', 1500);
    expect((await links.listLinks()).map((l) => l.name)).toEqual(['eth0', 'vmbr1']);
  });

  it('links: a hung call fails with a timeout after the timeout and changes nothing', async () => {
    const links = new SimLinks({ devices: ['eth0'], timeoutMs: 20 });
    links.faults.hangNext();
    const hung = await outcome(links.createBridge('vmbr1', 1500));
    expect((hung as LinkError).kind).toBe('timeout');
    expect((await links.listLinks()).map((l) => l.name)).toEqual(['eth0']);
  });

  it('links: slowness delays every call; clear() ends every fault', async () => {
    const links = new SimLinks();
    links.faults.setSlow(30);
    const started = performance.now();
    await links.listLinks();
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    links.faults.failNext(3);
    links.faults.clear();
    expect(await links.listLinks()).toEqual([]);
    expect(() => links.faults.setSlow(-1)).toThrow(/slowMs/);
  });

  it('frr and firewall: injected failures surface as their own error kinds', async () => {
    const frr = new SimFrr(new SimFrrWorld(), new SimLinks());
    frr.faults.failNext(1, 'start-failed');
    const failed = await outcome(frr.running());
    expect(failed).toBeInstanceOf(FrrError);
    expect((failed as FrrError).kind).toBe('start-failed');
    expect(await frr.running()).toEqual({ zebra: false, bgpd: false });
    const firewall = new SimFirewall();
    firewall.faults.failNext(1, 'timeout');
    const fw = await outcome(firewall.apply('table inet pvc\n'));
    expect(fw).toBeInstanceOf(FirewallError);
    expect((fw as FirewallError).kind).toBe('timeout');
    await firewall.apply('table inet pvc\n');
    expect(await firewall.readTable('inet', 'pvc')).toEqual({ family: 'inet', name: 'pvc', chains: [], rules: [] });
  });
});
