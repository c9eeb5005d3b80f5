// Runs the Ceph command-line tools for the real adapter (ceph-cli.ts) through common/exec.ts: one
// process per call, argument arrays only, a timeout on each. Every call names the cluster and the
// cephx user explicitly (--conf, --id, --keyring) rather than relying on the environment, and bounds the
// wait for a monitor, so that a dead cluster reads as 'unreachable' and not as a hung call.
// Failures become CephErrors naming the operation and the object.
import { ExecError, run, runStreaming, type RunResult } from '../../../common/exec.ts';
import { cephErrorDetail, classifyCephFailure, softFailure } from './parse-errors.ts';
import { CephError, type CephErrorKind, type CephOperation } from './port.ts';
import type { CephTimeouts } from './timeouts.ts';

export interface CephConnection {
  /** ceph.conf: where the monitors are (and, unless keyringPath is set, the client's keyring). */
  confPath: string;
  /** The cephx user without its "client." prefix, e.g. "admin". */
  clientId: string;
  keyringPath?: string;
}

export interface CallSpec {
  operation: CephOperation;
  /** What the call is about, for the error message (e.g. "vms/disk0"); null for cluster-wide calls. */
  subject: string | null;
  timeoutMs: number;
}

export class CephCli {
  constructor(
    readonly connection: CephConnection,
    readonly timeouts: CephTimeouts,
  ) {}

  /** `ceph --format json ARGS`; also fails when ceph exited 0 but said it did nothing (softFailure). */
  async ceph(spec: CallSpec, args: readonly string[]): Promise<string> {
    const result = await this.exec(spec, 'ceph', [...this.identity(), '--connect-timeout', String(this.timeouts.connectS), '--format', 'json', ...args], false);
    const soft = softFailure(result.stderr);
    if (soft !== null) throw new CephError(soft, spec.operation, spec.subject, cephErrorDetail(result.stderr));
    return result.stdout;
  }

  /** `ceph ARGS` without --format json, for output that must stay plain (a keyring, an OSD id). */
  async cephPlain(spec: CallSpec, args: readonly string[]): Promise<string> {
    const result = await this.exec(spec, 'ceph', [...this.identity(), '--connect-timeout', String(this.timeouts.connectS), ...args], false);
    return result.stdout;
  }

  /** `rbd ARGS`; callers add --format json to commands that print something. */
  async rbd(spec: CallSpec, args: readonly string[]): Promise<string> {
    return (await this.exec(spec, 'rbd', [...this.rbdGlobals(), ...args], false)).stdout;
  }

  /** `rbd ARGS` with its progress output handed to onOutput as it comes (import, export). */
  async rbdStreaming(spec: CallSpec, args: readonly string[], onOutput: (chunk: string) => void): Promise<void> {
    await this.stream(spec, 'rbd', [...this.rbdGlobals(), ...args], onOutput, false);
  }

  /**
   * Another program (ceph-osd, ceph-conf, ceph-volume, qemu-img). Its exit code is no errno, so
   * its failures are 'failed' (or 'timeout'), never classified by the rules for ceph and rbd.
   */
  async tool(spec: CallSpec, file: string, args: readonly string[]): Promise<string> {
    return (await this.exec(spec, file, args, true)).stdout;
  }

  async toolStreaming(spec: CallSpec, file: string, args: readonly string[], onOutput: (chunk: string) => void): Promise<void> {
    await this.stream(spec, file, args, onOutput, true);
  }

  /** The QEMU block-layer name of an RBD image (legacy rbd: syntax; ':' and '\' escaped in values). */
  qemuRbdTarget(pool: string, image: string): string {
    const escape = (value: string): string => value.replace(/[\\:]/g, (c) => `\\${c}`);
    const options = [`id=${escape(this.connection.clientId)}`, `conf=${escape(this.connection.confPath)}`];
    if (this.connection.keyringPath !== undefined) options.push(`keyring=${escape(this.connection.keyringPath)}`);
    return `rbd:${escape(pool)}/${escape(image)}:${options.join(':')}`;
  }

  private identity(): string[] {
    const keyring = this.connection.keyringPath === undefined ? [] : ['--keyring', this.connection.keyringPath];
    return ['--conf', this.connection.confPath, '--id', this.connection.clientId, ...keyring];
  }

  private rbdGlobals(): string[] {
    return [...this.identity(), '--client-mount-timeout', String(this.timeouts.connectS)];
  }

  private async exec(spec: CallSpec, file: string, args: readonly string[], foreign: boolean): Promise<RunResult> {
    try {
      return await run(file, args, { timeoutMs: spec.timeoutMs });
    } catch (error) {
      throw this.failure(spec, file, error, foreign);
    }
  }

  private async stream(spec: CallSpec, file: string, args: readonly string[], onOutput: (chunk: string) => void, foreign: boolean): Promise<void> {
    try {
      await runStreaming(file, args, { timeoutMs: spec.timeoutMs, onOutput: (chunk) => onOutput(chunk) });
    } catch (error) {
      throw this.failure(spec, file, error, foreign);
    }
  }

  private failure(spec: CallSpec, file: string, error: unknown, foreign: boolean): unknown {
    if (!(error instanceof ExecError)) {
      // The program could not be started at all (ENOENT: not installed).
      const reason = error instanceof Error ? error.message : String(error);
      return new CephError('failed', spec.operation, spec.subject, `cannot run ${file}: ${reason}`, { cause: error });
    }
    if (error.timedOut) {
      return new CephError('timeout', spec.operation, spec.subject, `${file} did not finish within ${spec.timeoutMs} ms`, { cause: error });
    }
    const kind: CephErrorKind = foreign ? 'failed' : classifyCephFailure(error.exitCode, error.stderr);
    return new CephError(kind, spec.operation, spec.subject, cephErrorDetail(error.stderr), { cause: error });
  }
}

