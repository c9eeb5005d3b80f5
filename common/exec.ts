// The one file that runs other programs (execa, and node:child_process for daemons): argument arrays only, never a shell string,
// and an explicit timeout on every call. Failures carry the command, exit code and stderr.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
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

/** Non-detached background children, killed when this process exits so that none is orphaned. */
const ownChildren = new Set<number>();
process.once('exit', () => {
  for (const pid of ownChildren) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts a long-running program in the background and returns its PID. Its output goes straight
 * to the log file's descriptor (not through a pipe held by this process), so a detached daemon
 * keeps logging after the process that started it has exited.
 */
export function spawnBackground(file: string, args: readonly string[], options: SpawnOptions): number {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(file, args, {
      stdio: ['ignore', log, log],
      env: options.env,
      cwd: options.cwd,
      detached: options.detached,
    });
    if (child.pid === undefined) throw new ExecError([file, ...args].join(' '), undefined, 'could not start', false);
    // Exits are observed through the PID; an 'error' event must not crash this process.
    child.on('error', () => undefined);
    if (options.detached) child.unref();
    else ownChildren.add(child.pid);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

export interface StreamOptions extends Omit<RunOptions, 'input'> {
  /** Called with each piece of output as the program writes it (progress lines, for instance). */
  onOutput: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** The program reads its stdin from this file (a large upload never passes through memory). */
  inputFile?: string;
}

/** Output kept for the result and for errors: the tail only, since progress output can be long. */
const STREAM_TAIL_CHARS = 64 * 1024;

/**
 * Like run(), for long transfers: output is handed to onOutput as it comes instead of being
 * buffered whole. Throws ExecError on a non-zero exit or on timeout (the program is killed).
 */
export async function runStreaming(file: string, args: readonly string[], options: StreamOptions): Promise<RunResult> {
  const subprocess = execa(file, args, {
    timeout: options.timeoutMs,
    env: options.env,
    cwd: options.cwd,
    inputFile: options.inputFile,
    stdin: options.inputFile === undefined ? 'ignore' : undefined,
    buffer: false,
    reject: false,
  });
  const tails = { stdout: '', stderr: '' };
  for (const stream of ['stdout', 'stderr'] as const) {
    subprocess[stream]?.setEncoding('utf8');
    subprocess[stream]?.on('data', (chunk: string) => {
      tails[stream] = (tails[stream] + chunk).slice(-STREAM_TAIL_CHARS);
      options.onOutput(chunk, stream);
    });
  }
  const result = await subprocess;
  const command = [file, ...args].join(' ');
  if (result.timedOut) throw new ExecError(command, undefined, tails.stderr, true);
  if (result.exitCode !== 0) throw new ExecError(command, result.exitCode, tails.stderr, false);
  return { stdout: tails.stdout, stderr: tails.stderr, exitCode: 0 };
}
