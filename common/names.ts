import { PvcError } from './errors.ts';

// Cluster and node names become ZooKeeper path segments, host names and file names, so
// they are held to a DNS label: lowercase letters, digits and inner hyphens.
/** The rule as a pattern fragment, for patterns that embed a name. */
export const NAME_FRAGMENT = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
export const NAME_PATTERN = new RegExp(`^${NAME_FRAGMENT}$`);
export const NAME_RULE = 'use 1-63 lowercase letters, digits and inner hyphens';

export function isValidName(value: string): boolean {
  return NAME_PATTERN.test(value);
}

export function assertName(kind: string, value: unknown): string {
  if (typeof value !== 'string' || !isValidName(value)) {
    throw new PvcError(
      'bad-input',
      `invalid ${kind} name ${JSON.stringify(value)}: ${NAME_RULE}`,
    );
  }
  return value;
}
