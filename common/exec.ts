// The one file that runs other programs (execa): argument arrays only, never a shell string,
// and an explicit timeout on every call. Failures carry the command, exit code and stderr.
import { execa } from 'execa';

export interface RunOptions {
  timeoutMs: number;
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class ExecError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | undefined,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    super(timedOut ? `${command} did not finish in time` : `${command} exited with ${exitCode ?? 'a signal'}: ${stderr.trim().slice(0, 500)}`);
    this.name = 'ExecError';
  }
}

/** Runs a program to completion; throws ExecError on a non-zero exit or on timeout. */
export async function run(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const result = await execa(file, args, {
    timeout: options.timeoutMs,
    input: options.input,
    env: options.env,
    cwd: options.cwd,
    reject: false,
    stripFinalNewline: false,
  });
  const command = [file, ...args].join(' ');
  if (result.timedOut) throw new ExecError(command, undefined, String(result.stderr ?? ''), true);
  if (result.exitCode !== 0) throw new ExecError(command, result.exitCode, String(result.stderr ?? ''), false);
  return { stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''), exitCode: 0 };
}

export interface SpawnOptions {
  /** stdout and stderr are appended here. */
  logFile: string;
  env?: Record<string, string>;
  cwd?: string;
  /** A detached child outlives this process (the local cluster); otherwise it is ours to stop. */
  detached: boolean;
}

/** Starts a long-running program in the background and returns its PID. */
export function spawnBackground(file: string, args: readonly string[], options: SpawnOptions): number {
  const log = { file: options.logFile, append: true } as const;
  const child = execa(file, args, {
    stdin: 'ignore',
    stdout: log,
    stderr: log,
    env: options.env,
    cwd: options.cwd,
    detached: options.detached,
    reject: false,
    cleanup: !options.detached,
  });
  if (child.pid === undefined) throw new ExecError([file, ...args].join(' '), undefined, 'could not start', false);
  if (options.detached) child.unref();
  // The child's exit is observed through its PID; execa's promise must not go unhandled.
  child.catch(() => undefined);
  return child.pid;
}
