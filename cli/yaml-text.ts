// YAML rendering, in a module of its own so that output.ts can load it only for --format yaml.
// (Importing it statically here, not `await import('yaml')` there, also keeps the named export
// when the launcher's esbuild build turns yaml's CommonJS into a chunk: a dynamic import of a
// CommonJS package only has a default export in such a build.)
import { stringify } from 'yaml';

export function toYaml(data: unknown): string {
  return stringify(data);
}
