// Turns zod's validation issues into one lowercase line that names each wrong value, as
// PvcError messages do: `vcpus: too small: expected number to be >=1, got 0`.

/** Long values (raw XML, say) are cut in messages; the path already says which one it is. */
export const SHOWN_VALUE_MAX_CHARS = 80;
/** A definition with many mistakes names the first few; fixing those reveals the rest. */
export const SHOWN_ISSUES_MAX = 5;

interface Issue {
  path: PropertyKey[];
  message: string;
  code?: string;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > SHOWN_VALUE_MAX_CHARS ? `${text.slice(0, SHOWN_VALUE_MAX_CHARS)}...` : text;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

export function describeIssues(issues: readonly Issue[], input: unknown): string {
  const lines = issues.slice(0, SHOWN_ISSUES_MAX).map((issue) => {
    const where = issue.path.map(String).join('.') || '(definition)';
    const value = valueAt(input, issue.path);
    // An unknown key names itself in the message; a missing one has no value to show.
    const got = issue.code === 'unrecognized_keys' ? '' : value === undefined ? ', got nothing' : `, got ${shown(value)}`;
    return `${where}: ${lowerFirst(issue.message)}${got}`;
  });
  const more = issues.length > SHOWN_ISSUES_MAX ? `; and ${issues.length - SHOWN_ISSUES_MAX} more` : '';
  return lines.join('; ') + more;
}
