// The real firewall adapter: the nft tool, through common/exec.ts. A ruleset goes to `nft -f`
// as a private temporary file; with `netns` set, nft runs inside that namespace (`ip netns exec
// NS nft ...`; nft has no -n option of its own).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExecError, run } from '../../../common/exec.ts';
import { parseNftTable } from './parse.ts';
import { FirewallError, assertTable, type FirewallDriver, type FirewallOperation, type FirewallTable } from './port.ts';

/** nft loads a ruleset of a few hundred rules in milliseconds; a stuck one is killed after this. */
export const NFT_TIMEOUT_MS = 15_000;

export class NftFirewall implements FirewallDriver {
  constructor(private readonly options: { netns: string | null; timeoutMs?: number }) {}

  async apply(ruleset: string): Promise<void> {
    const dir = mkdtempSync(path.join(tmpdir(), 'pvc-nft-'));
    try {
      const file = path.join(dir, 'ruleset.nft');
      writeFileSync(file, ruleset, { mode: 0o600 });
      await this.nft('apply', ['-f', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async readTable(family: string, name: string): Promise<FirewallTable | null> {
    assertTable('read', family, name);
    let out: string;
    try {
      out = await this.nft('read', ['-j', 'list', 'table', family, name]);
    } catch (error) {
      if (error instanceof FirewallError && /no such file or directory/i.test(error.message)) return null;
      throw error;
    }
    try {
      return parseNftTable(out);
    } catch (error) {
      throw new FirewallError('failed', 'read', (error as Error).message, { cause: error });
    }
  }

  async deleteTable(family: string, name: string): Promise<void> {
    assertTable('delete', family, name);
    // Declaring the table first makes the delete succeed whether or not it existed, in one transaction.
    await this.apply(`table ${family} ${name}\ndelete table ${family} ${name}\n`);
  }

  private async nft(operation: FirewallOperation, args: string[]): Promise<string> {
    const timeoutMs = this.options.timeoutMs ?? NFT_TIMEOUT_MS;
    const [file, full] = this.options.netns === null ? ['nft', args] : ['ip', ['netns', 'exec', this.options.netns, 'nft', ...args]];
    try {
      return (await run(file, full, { timeoutMs })).stdout;
    } catch (error) {
      if (!(error instanceof ExecError)) throw error;
      if (error.timedOut) throw new FirewallError('timeout', operation, `nft did not answer in ${timeoutMs} ms`, { cause: error });
      const detail = error.stderr.trim() || error.message;
      throw new FirewallError(operation === 'apply' ? 'invalid' : 'failed', operation, detail, { cause: error });
    }
  }
}
