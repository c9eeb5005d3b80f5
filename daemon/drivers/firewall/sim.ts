// Simulated nftables: reads the subset of the nft language pvc writes (table declarations,
// `delete table`, table blocks with chains and one rule a line), applies a file as one
// transaction (all or nothing, like nft), and refuses what nft refuses in it: unbalanced braces,
// deleting a table that does not exist, the reserved chain name `fwd`, a jump to a chain its
// table does not have when the file ends. Counters stay at zero.
import { SimFaults, sleepMs } from '../sim-faults.ts';
import { NFT_TIMEOUT_MS } from './nft.ts';
import { FirewallError, assertTable, type FirewallDriver, type FirewallErrorKind, type FirewallOperation, type FirewallTable } from './port.ts';

/** Words nft's grammar takes as keywords where a chain name is expected (the one pvc met: `fwd`). */
const RESERVED_CHAIN_NAMES = new Set(['fwd', 'table', 'chain', 'rule', 'counter', 'accept', 'drop', 'return']);

export class SimFirewall implements FirewallDriver {
  readonly faults = new SimFaults<FirewallErrorKind>('failed');
  private tables = new Map<string, FirewallTable>();

  async apply(ruleset: string): Promise<void> {
    await this.enter('apply');
    const next = new Map([...this.tables].map(([k, t]) => [k, cloneTable(t)]));
    let table: FirewallTable | null = null;
    let chain: string | null = null;
    const jumps: Array<{ n: number; table: FirewallTable; target: string }> = [];
    const fail = (n: number, why: string) => new FirewallError('invalid', 'apply', `line ${n + 1}: ${why}`);
    for (const [n, raw] of ruleset.split('\n').entries()) {
      const line = raw.replace(/#.*$/, '').trim();
      if (line === '') continue;
      let m: RegExpExecArray | null;
      if (table === null) {
        if ((m = /^table (\w+) (\w+)( \{)?$/.exec(line))) {
          const key = `${m[1]} ${m[2]}`;
          const current = next.get(key) ?? { family: m[1] as string, name: m[2] as string, chains: [], rules: [] };
          next.set(key, current);
          if (m[3]) table = current;
        } else if ((m = /^delete table (\w+) (\w+)$/.exec(line))) {
          if (!next.delete(`${m[1]} ${m[2]}`)) throw fail(n, 'Error: No such file or directory');
        } else throw fail(n, `Error: syntax error near ${JSON.stringify(line)}`);
      } else if (chain === null) {
        if (line === '}') table = null;
        else if ((m = /^chain (\S+) \{$/.exec(line))) {
          if (RESERVED_CHAIN_NAMES.has(m[1] as string)) throw fail(n, `Error: syntax error, unexpected ${m[1]}, expecting string`);
          chain = m[1] as string;
          table.chains.push({ name: chain, hook: null, policy: null });
        } else throw fail(n, `Error: syntax error near ${JSON.stringify(line)}`);
      } else if (line === '}') chain = null;
      else if ((m = /^type \w+ hook (\w+) priority [\w-]+; policy (\w+);$/.exec(line))) {
        const c = table.chains[table.chains.length - 1];
        if (c) Object.assign(c, { hook: m[1], policy: m[2] });
      } else {
        const comment = /comment "([^"]*)"$/.exec(line)?.[1] ?? null;
        table.rules.push({ chain, comment, packets: /\bcounter\b/.test(line) ? 0 : null });
        const target = /\b(?:jump|goto) (\S+)/.exec(line)?.[1];
        if (target !== undefined) jumps.push({ n, table, target });
      }
    }
    if (table !== null || chain !== null) throw new FirewallError('invalid', 'apply', 'Error: syntax error, unexpected end of file');
    // nft resolves jumps at the end of the transaction: a chain defined further down is fine.
    const kept = new Set(next.values());
    for (const jump of jumps) {
      if (kept.has(jump.table) && !jump.table.chains.some((c) => c.name === jump.target)) throw fail(jump.n, 'Error: Could not process rule: No such file or directory');
    }
    this.tables = next;
  }

  async readTable(family: string, name: string): Promise<FirewallTable | null> {
    assertTable('read', family, name);
    await this.enter('read');
    const table = this.tables.get(`${family} ${name}`);
    return table ? cloneTable(table) : null;
  }

  async deleteTable(family: string, name: string): Promise<void> {
    assertTable('delete', family, name);
    await this.enter('delete');
    this.tables.delete(`${family} ${name}`);
  }

  private async enter(operation: FirewallOperation): Promise<void> {
    if (this.faults.slowMs > 0) await sleepMs(this.faults.slowMs);
    const { hang, failure } = this.faults.take();
    if (hang) {
      await sleepMs(NFT_TIMEOUT_MS);
      throw new FirewallError('timeout', operation, `nft did not answer in ${NFT_TIMEOUT_MS} ms`);
    }
    if (failure) throw new FirewallError(failure.kind, operation, failure.detail);
  }
}

function cloneTable(table: FirewallTable): FirewallTable {
  return { ...table, chains: table.chains.map((c) => ({ ...c })), rules: table.rules.map((r) => ({ ...r })) };
}
