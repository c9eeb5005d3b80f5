// The nft JSON parser on output captured from nftables 1.0.6 (test/unit/fixtures/nft/).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseNftTable } from '../../daemon/drivers/firewall/parse.ts';

describe('parseNftTable', () => {
  const table = parseNftTable(readFileSync(new URL('./fixtures/nft/list-table-pvc.json', import.meta.url), 'utf8'));

  it('reads the table and its chains, the base chain with its hook and policy', () => {
    expect({ family: table.family, name: table.name }).toEqual({ family: 'inet', name: 'pvc' });
    expect(table.chains).toEqual([
      { name: 'forward', hook: 'forward', policy: 'accept' },
      { name: 'vmbr100-in', hook: null, policy: null },
      { name: 'vmbr100-out', hook: null, policy: null },
      { name: 'vmbr200-in', hook: null, policy: null },
      { name: 'vmbr200-out', hook: null, policy: null },
    ]);
  });

  it('reads each rule with its comment and counter', () => {
    expect(table.rules.filter((r) => r.chain === 'vmbr100-in')).toEqual([
      { chain: 'vmbr100-in', comment: 'acl ssh', packets: 0 },
      { chain: 'vmbr100-in', comment: 'acl web', packets: 0 },
      { chain: 'vmbr100-in', comment: 'acl ping6', packets: 0 },
      { chain: 'vmbr100-in', comment: 'default drop', packets: 0 },
    ]);
    expect(table.rules.find((r) => r.chain === 'forward')).toEqual({ chain: 'forward', comment: null, packets: null });
  });

  it('refuses output without a table', () => {
    expect(() => parseNftTable('{"nftables": []}')).toThrow(/names no table/);
    expect(() => parseNftTable('nope')).toThrow(/not valid json/);
  });
});
