// The firewall port: pvc's own nftables table on one node (one network namespace). The ruleset
// is always applied whole, as one transaction that replaces pvc's table and no other (the file
// says `table X; delete table X; table X {...}`), so a half-applied firewall never exists. Two
// adapters: nft.ts (the nft tool) and sim.ts (in memory); test/contract/firewall.contract.ts holds
// both to the same behaviour.
import { PvcError, type PvcErrorCode } from '../../../common/errors.ts';

export interface FirewallRule {
  chain: string;
  comment: string | null;
  /** The rule's counter, when it has one. */
  packets: number | null;
}

export interface FirewallTable {
  family: string;
  name: string;
  chains: Array<{ name: string; hook: string | null; policy: string | null }>;
  rules: FirewallRule[];
}

export interface FirewallDriver {
  /** Applies a whole ruleset file atomically: all of it or (on any error) none of it. */
  apply(ruleset: string): Promise<void>;
  /** The table as it runs; null when it does not exist. */
  readTable(family: string, name: string): Promise<FirewallTable | null>;
  /** Deletes the table if it exists. */
  deleteTable(family: string, name: string): Promise<void>;
}

export type FirewallOperation = 'apply' | 'read' | 'delete';

/** invalid (nft refused the ruleset; nothing changed), timeout, failed. */
export type FirewallErrorKind = 'invalid' | 'timeout' | 'failed';

const ERROR_CODES: Record<FirewallErrorKind, PvcErrorCode> = { invalid: 'bad-input', timeout: 'timeout', failed: 'refused' };

export class FirewallError extends PvcError {
  constructor(
    readonly kind: FirewallErrorKind,
    readonly operation: FirewallOperation,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(ERROR_CODES[kind], `firewall ${operation}: ${detail}`, options);
    this.name = 'FirewallError';
  }
}

const TABLE_FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function assertTable(operation: FirewallOperation, family: string, name: string): void {
  if (!TABLE_FAMILIES.has(family) || !TABLE_NAME.test(name)) {
    throw new FirewallError('invalid', operation, `invalid table ${JSON.stringify(`${family} ${name}`)}: use a family (inet, ip, ...) and a name of letters, digits, underscores`);
  }
}
