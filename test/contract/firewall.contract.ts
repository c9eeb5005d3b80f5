// The firewall driver contract: one suite, run against the simulation (firewall-sim.test.ts) and
// against nft inside a network namespace the test creates (firewall-nft.test.ts). Rulesets come
// from the real renderer (reconcile/firewall-rules.ts). Tests run in order and share the tables.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirewallError, type FirewallDriver } from '../../daemon/drivers/firewall/port.ts';
import { FIREWALL_TABLE, renderFirewall, type FirewallNetwork } from '../../daemon/reconcile/firewall-rules.ts';
import type { ManagedNetwork } from '../../common/zk/schema.ts';

export interface FirewallHarness {
  driver: FirewallDriver;
  stop(): Promise<void>;
}

function network(name: string, vni: number, defaultInbound: 'accept' | 'drop'): FirewallNetwork {
  const spec: ManagedNetwork = {
    name, type: 'managed', vni, description: '', domain: `${name}.pvc.local`, mtu: null,
    ipv4: { subnet: `10.${vni % 250}.0.0/24`, gateway: `10.${vni % 250}.0.1`, dhcp: { enabled: false, start: null, end: null } },
    ipv6: null, nameServers: [], firewall: { defaultInbound, defaultOutbound: 'accept' },
  };
  return { spec, acls: [{ name: 'ssh', acl: { direction: 'in', order: 1, action: 'accept', source: '10.9.0.0/16', destination: null, protocol: 'tcp', ports: [{ from: 22, to: 22 }], description: '' } }] };
}

const FOREIGN = 'table inet other {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tcounter comment "not pvc\'s"\n\t}\n}\n';

export function firewallContract(label: string, createHarness: () => Promise<FirewallHarness>): void {
  describe(`firewall driver contract: ${label}`, () => {
    let h: FirewallHarness;
    let d: FirewallDriver;
    const chainsOf = async () => (await d.readTable('inet', FIREWALL_TABLE))?.chains.map((c) => c.name);

    beforeAll(async () => {
      h = await createHarness();
      d = h.driver;
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('reads a table that does not exist as null', async () => {
      expect(await d.readTable('inet', FIREWALL_TABLE)).toBeNull();
    });

    it('applies a rendered ruleset: the forward and input hooks and the chains of each network, with their rules', async () => {
      await d.apply(renderFirewall([network('prod', 100, 'drop'), network('dev', 200, 'accept')]));
      const table = await d.readTable('inet', FIREWALL_TABLE);
      expect(table?.chains).toEqual([
        { name: 'forward', hook: 'forward', policy: 'accept' },
        { name: 'input', hook: 'input', policy: 'accept' },
        { name: 'vmbr100-host', hook: null, policy: null },
        { name: 'vmbr100-in', hook: null, policy: null },
        { name: 'vmbr100-out', hook: null, policy: null },
        { name: 'vmbr200-host', hook: null, policy: null },
        { name: 'vmbr200-in', hook: null, policy: null },
        { name: 'vmbr200-out', hook: null, policy: null },
      ]);
      expect(table?.rules.filter((r) => r.chain === 'vmbr100-in')).toEqual([
        { chain: 'vmbr100-in', comment: 'acl ssh', packets: 0 },
        { chain: 'vmbr100-in', comment: 'default drop', packets: 0 },
      ]);
      expect(table?.rules.filter((r) => r.chain === 'input')).toEqual([
        { chain: 'input', comment: 'network prod: from its vms to this node', packets: null },
        { chain: 'input', comment: 'network dev: from its vms to this node', packets: null },
      ]);
      expect(table?.rules.filter((r) => r.chain === 'vmbr100-host').map((r) => [r.comment, r.packets])).toEqual([
        ['replies, and connections already allowed', null],
        ['pvc dhcpv4', 0],
        ['pvc dns at the gateway', 0],
        ['pvc ping of the gateway', 0],
        ["the network's out acls and default", null],
      ]);
    });

    it('replaces its own table and leaves other tables alone', async () => {
      await d.apply(FOREIGN);
      await d.apply(renderFirewall([network('prod', 100, 'drop')]));
      expect(await chainsOf()).toEqual(['forward', 'input', 'vmbr100-host', 'vmbr100-in', 'vmbr100-out']);
      expect((await d.readTable('inet', 'other'))?.rules).toEqual([{ chain: 'input', comment: "not pvc's", packets: 0 }]);
    });

    it('refuses a ruleset nft cannot read, changing nothing', async () => {
      const broken = renderFirewall([network('prod', 100, 'drop'), network('dev', 200, 'accept')]).replace('chain vmbr200-out {', 'chain fwd {');
      const error = await d.apply(broken).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(FirewallError);
      expect((error as FirewallError).kind).toBe('invalid');
      expect(await chainsOf()).toEqual(['forward', 'input', 'vmbr100-host', 'vmbr100-in', 'vmbr100-out']);
    });

    it('refuses a jump to a chain the ruleset does not define, changing nothing', async () => {
      const dangling = renderFirewall([network('prod', 100, 'drop')]).replace('jump vmbr100-host', 'jump vmbr100-nowhere');
      const error = await d.apply(dangling).then(() => null, (e: unknown) => e);
      expect((error as FirewallError).kind).toBe('invalid');
      expect(await chainsOf()).toEqual(['forward', 'input', 'vmbr100-host', 'vmbr100-in', 'vmbr100-out']);
    });

    it('deletes its table (twice is fine), leaving the other', async () => {
      await d.deleteTable('inet', FIREWALL_TABLE);
      await d.deleteTable('inet', FIREWALL_TABLE);
      expect(await d.readTable('inet', FIREWALL_TABLE)).toBeNull();
      expect(await d.readTable('inet', 'other')).not.toBeNull();
    });

    it('refuses a table name nft would misread', async () => {
      const error = await d.readTable('inet', 'x; flush ruleset').then(() => null, (e: unknown) => e);
      expect((error as FirewallError).kind).toBe('invalid');
    });
  });
}
