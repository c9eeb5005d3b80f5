// What every benchmark reports: medians with their spread, and command wall times.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { run } from '../../common/exec.ts';
import { REPO_ROOT } from '../../scripts/lib/pvcd-process.ts';

/** A command under test answers in seconds at worst; this only bounds a hung one. */
const COMMAND_TIMEOUT_MS = 30_000;

export interface Summary {
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
  samplesMs: number[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summary(values: readonly number[]): Summary {
  const round = (v: number) => Math.round(v * 10) / 10;
  return { medianMs: round(median(values)), minMs: round(Math.min(...values)), maxMs: round(Math.max(...values)), runs: values.length, samplesMs: values.map(round) };
}

export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

/** A CLI config folder whose default connection is the bench cluster; returns the CLI's env. */
export function benchCliEnv(dir: string, hosts: string, cluster: string, auth: { user: string; password: string }): Record<string, string> {
  const configDir = path.join(dir, 'pvc-config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(path.join(configDir, 'connections.yaml'), stringify({ default: 'bench', connections: [{ name: 'bench', hosts, cluster, ...auth }] }), { mode: 0o600 });
  return { PVC_CONFIG_DIR: configDir };
}

/** Wall time of one run of a command from the repository root, process start included. */
export async function timeCommand(file: string, args: readonly string[], env?: Record<string, string>): Promise<number> {
  const started = performance.now();
  await run(file, args, { timeoutMs: COMMAND_TIMEOUT_MS, cwd: REPO_ROOT, env: env ? ({ ...process.env, ...env } as Record<string, string>) : undefined });
  return performance.now() - started;
}
