// Pure parser of `nft -j list table FAMILY NAME` (nftables 1.0.6 JSON), tested on captured output.
import type { FirewallRule, FirewallTable } from './port.ts';

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json | null => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : null);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function parseNftTable(text: string): FirewallTable {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new Error(`nft output is not valid json: ${(error as Error).message}`, { cause: error });
  }
  const items = asObject(doc)?.nftables;
  if (!Array.isArray(items)) throw new Error('nft output has no nftables list');
  let table: { family: string; name: string } | null = null;
  const chains: FirewallTable['chains'] = [];
  const rules: FirewallRule[] = [];
  for (const item of items) {
    const entry = asObject(item) ?? {};
    const t = asObject(entry.table);
    const c = asObject(entry.chain);
    const r = asObject(entry.rule);
    if (t) table = { family: str(t.family) ?? '', name: str(t.name) ?? '' };
    if (c) chains.push({ name: str(c.name) ?? '', hook: str(c.hook), policy: str(c.policy) });
    if (r) rules.push({ chain: str(r.chain) ?? '', comment: str(r.comment), packets: counterOf(r.expr) });
  }
  if (!table) throw new Error('nft output names no table');
  return { ...table, chains, rules };
}

function counterOf(expr: unknown): number | null {
  if (!Array.isArray(expr)) return null;
  for (const part of expr) {
    const counter = asObject(asObject(part)?.counter);
    if (counter && typeof counter.packets === 'number') return counter.packets;
  }
  return null;
}
