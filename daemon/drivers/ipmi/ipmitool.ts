// The real IPMI adapter: one `ipmitool -I lanplus -C 3` process per call through common/exec.ts.
// Cipher suite 3 is always asked for: ipmitool 1.8.19 defaults to 17, which many BMCs (and
// ipmi_sim) lack, and then hangs ~10 s before falling back. The password reaches ipmitool only
// through IPMI_PASSWORD in its environment (`-E`): never on a command line (visible in ps) and
// never in an error message or a log line.
import { ExecError, run } from '../../../common/exec.ts';
import { IpmiError, bmcLabel, type BmcTarget, type IpmiDriver, type PowerOperation, type PowerState } from './port.ts';
import { classifyIpmitoolError, errorSummary, isControlAccepted, parsePowerStatus } from './parse.ts';

/** One ipmitool call, retries included; a BMC answers in 35-50 ms here, real ones in < 1 s. */
export const IPMITOOL_CALL_TIMEOUT_MS = 5_000;
/** ipmitool's own per-try timeout (-N, seconds) and retries (-R): 2 tries of 1 s before giving up. */
const IPMITOOL_TRY_TIMEOUT_S = 1;
const IPMITOOL_RETRIES = 1;

export interface IpmitoolOptions {
  /** The ipmitool binary. */
  binary?: string;
  timeoutMs?: number;
}

export class IpmitoolDriver implements IpmiDriver {
  private readonly binary: string;
  private readonly timeoutMs: number;

  constructor(options: IpmitoolOptions = {}) {
    this.binary = options.binary ?? 'ipmitool';
    this.timeoutMs = options.timeoutMs ?? IPMITOOL_CALL_TIMEOUT_MS;
  }

  async powerStatus(target: BmcTarget): Promise<PowerState> {
    const stdout = await this.power(target, 'status');
    const state = parsePowerStatus(stdout);
    if (state === null) throw new IpmiError('failed', 'status', bmcLabel(target), `unexpected answer ${JSON.stringify(stdout.trim().slice(0, 200))}`);
    return state;
  }

  powerOff(target: BmcTarget): Promise<void> {
    return this.control(target, 'off');
  }

  powerOn(target: BmcTarget): Promise<void> {
    return this.control(target, 'on');
  }

  powerCycle(target: BmcTarget): Promise<void> {
    return this.control(target, 'cycle');
  }

  private async control(target: BmcTarget, operation: Exclude<PowerOperation, 'status'>): Promise<void> {
    const stdout = await this.power(target, operation);
    if (!isControlAccepted(operation, stdout)) throw new IpmiError('failed', operation, bmcLabel(target), `unexpected answer ${JSON.stringify(stdout.trim().slice(0, 200))}`);
  }

  private async power(target: BmcTarget, operation: PowerOperation): Promise<string> {
    const args = [
      '-I', 'lanplus', '-C', '3',
      '-N', String(IPMITOOL_TRY_TIMEOUT_S), '-R', String(IPMITOOL_RETRIES),
      '-H', target.host, '-p', String(target.port), '-U', target.username, '-E',
      'chassis', 'power', operation,
    ];
    try {
      const result = await run(this.binary, args, { timeoutMs: this.timeoutMs, env: { IPMI_PASSWORD: target.password } });
      return result.stdout;
    } catch (error) {
      if (!(error instanceof ExecError)) throw error;
      if (error.timedOut) throw new IpmiError('timeout', operation, bmcLabel(target), `no answer within ${this.timeoutMs} ms`);
      throw new IpmiError(classifyIpmitoolError(error.stderr), operation, bmcLabel(target), errorSummary(error.stderr));
    }
  }
}
