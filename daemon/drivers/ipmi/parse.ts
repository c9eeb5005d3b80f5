// Pure parsers of ipmitool's chassis power output (tested on captured output under
// test/unit/fixtures/ipmi/). ipmitool has no machine-readable form for these commands, so the
// few fixed English lines it prints are matched exactly.
import type { IpmiErrorKind, PowerOperation, PowerState } from './port.ts';

const STATUS_LINE = /^Chassis Power is (on|off)$/m;
const CONTROL_REPLY: Record<Exclude<PowerOperation, 'status'>, string> = {
  off: 'Chassis Power Control: Down/Off',
  on: 'Chassis Power Control: Up/On',
  cycle: 'Chassis Power Control: Cycle',
};
const NO_SESSION = /Unable to establish IPMI v2 \/ RMCP\+ session|Unable to establish LAN session|No response from remote controller/;

/** `chassis power status` -> on | off; null when the output is not ipmitool's answer. */
export function parsePowerStatus(stdout: string): PowerState | null {
  const match = STATUS_LINE.exec(stdout);
  return match ? (match[1] as PowerState) : null;
}

/** True when `chassis power off|on|cycle` printed its success line. */
export function isControlAccepted(operation: Exclude<PowerOperation, 'status'>, stdout: string): boolean {
  return stdout.split('\n').some((line) => line.trim() === CONTROL_REPLY[operation]);
}

/** The kind of a failed ipmitool call, from its stderr. */
export function classifyIpmitoolError(stderr: string): IpmiErrorKind {
  return NO_SESSION.test(stderr) ? 'no-session' : 'failed';
}

/** The first non-empty line of ipmitool's error output, for people (it never holds the password). */
export function errorSummary(stderr: string): string {
  return stderr.split('\n').map((line) => line.trim()).find((line) => line.length > 0)?.slice(0, 300) ?? 'no error output';
}
