// The IPMI port: what the fencer asks of a node's baseboard management controller (BMC). Two
// adapters implement it: ipmitool.ts (the real BMC, IPMI v2 lanplus) and sim.ts (in-memory
// BMCs with faults). The contract suite (test/contract/ipmi.contract.ts) holds both to the same
// behaviour. Credentials travel in the target and are never put into an error, a log line or a
// command line.
import { PvcError, type PvcErrorCode } from '../../../common/errors.ts';

export type PowerState = 'on' | 'off';

export type PowerOperation = 'status' | 'off' | 'on' | 'cycle';

export interface BmcTarget {
  host: string;
  /** The BMC's RMCP+ UDP port (623 on real hardware). */
  port: number;
  username: string;
  /** Secret: handed to ipmitool through its environment only. */
  password: string;
}

export interface IpmiDriver {
  powerStatus(target: BmcTarget): Promise<PowerState>;
  /** Hard power off (not an ACPI request): the fence. Returns once the BMC accepted it. */
  powerOff(target: BmcTarget): Promise<void>;
  powerOn(target: BmcTarget): Promise<void>;
  /** Off, then on again (the BMC chooses the pause). */
  powerCycle(target: BmcTarget): Promise<void>;
}

/**
 * - no-session: no RMCP+ session: the BMC does not answer, or refused the user or password
 *   (ipmitool says the same for both, so neither can be told apart here)
 * - timeout: the call did not finish within its bound
 * - failed: the BMC answered but refused or failed the command
 */
export type IpmiErrorKind = 'no-session' | 'timeout' | 'failed';

const CODE_OF: Record<IpmiErrorKind, PvcErrorCode> = { 'no-session': 'unreachable', timeout: 'timeout', failed: 'refused' };

export class IpmiError extends PvcError {
  constructor(
    readonly kind: IpmiErrorKind,
    readonly operation: PowerOperation,
    /** host:port of the BMC; never the user or password. */
    readonly bmc: string,
    readonly detail: string,
  ) {
    super(CODE_OF[kind], `ipmi power ${operation} on bmc ${bmc} failed (${kind}): ${detail}`);
    this.name = 'IpmiError';
  }
}

export function isIpmiError(error: unknown, kind?: IpmiErrorKind): error is IpmiError {
  return error instanceof IpmiError && (kind === undefined || error.kind === kind);
}

export function bmcLabel(target: Pick<BmcTarget, 'host' | 'port'>): string {
  return `${target.host}:${target.port}`;
}
