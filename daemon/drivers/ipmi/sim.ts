// Simulated BMCs: an in-memory set of power switches, keyed by host:port, with the credentials
// each accepts and faults a test can set: unreachable (no session), failing commands, and a BMC
// that lies (accepts power off but leaves the node on, or reports off while the node runs).
// A power change can run a callback, which is how a test stops the node's pvcd and its VMs.
import { IpmiError, bmcLabel, type BmcTarget, type IpmiDriver, type PowerOperation, type PowerState } from './port.ts';

export interface SimBmcSpec {
  host: string;
  port: number;
  username: string;
  password: string;
  power?: PowerState;
  /** Runs (and is awaited) when the power goes off or on, before the call returns. */
  onPower?: (state: PowerState) => void | Promise<void>;
}

export interface SimBmcFaults {
  /** Every call fails as if the BMC did not answer. */
  unreachable: boolean;
  /** The next N control calls (off, on, cycle) fail with 'failed'. */
  failControls: number;
  /** Power off is accepted but the node stays on. */
  ignoresPowerOff: boolean;
  /** Power status always says off, whatever the truth. */
  reportsOff: boolean;
}

export class SimBmc {
  power: PowerState;
  readonly faults: SimBmcFaults = { unreachable: false, failControls: 0, ignoresPowerOff: false, reportsOff: false };
  readonly calls: PowerOperation[] = [];

  constructor(readonly spec: SimBmcSpec) {
    this.power = spec.power ?? 'on';
  }

  clearFaults(): void {
    Object.assign(this.faults, { unreachable: false, failControls: 0, ignoresPowerOff: false, reportsOff: false });
  }
}

/** How long the simulated BMC waits between off and on in a power cycle. */
const SIM_CYCLE_PAUSE_MS = 20;

export class SimIpmi implements IpmiDriver {
  private readonly bmcs = new Map<string, SimBmc>();

  add(spec: SimBmcSpec): SimBmc {
    const bmc = new SimBmc(spec);
    this.bmcs.set(bmcLabel(spec), bmc);
    return bmc;
  }

  bmc(host: string, port: number): SimBmc {
    const found = this.bmcs.get(bmcLabel({ host, port }));
    if (!found) throw new Error(`sim ipmi: no bmc at ${host}:${port}`);
    return found;
  }

  async powerStatus(target: BmcTarget): Promise<PowerState> {
    const bmc = this.session(target, 'status');
    return bmc.faults.reportsOff ? 'off' : bmc.power;
  }

  async powerOff(target: BmcTarget): Promise<void> {
    const bmc = this.control(target, 'off');
    if (!bmc.faults.ignoresPowerOff) await this.switchTo(bmc, 'off');
  }

  async powerOn(target: BmcTarget): Promise<void> {
    await this.switchTo(this.control(target, 'on'), 'on');
  }

  async powerCycle(target: BmcTarget): Promise<void> {
    const bmc = this.control(target, 'cycle');
    if (bmc.faults.ignoresPowerOff) return;
    await this.switchTo(bmc, 'off');
    // Like a real BMC, the call returns before the node is back on.
    setTimeout(() => void this.switchTo(bmc, 'on'), SIM_CYCLE_PAUSE_MS).unref();
  }

  private session(target: BmcTarget, operation: PowerOperation): SimBmc {
    const label = bmcLabel(target);
    const bmc = this.bmcs.get(label);
    if (!bmc || bmc.faults.unreachable || bmc.spec.username !== target.username || bmc.spec.password !== target.password) {
      // ipmitool cannot tell a silent BMC from refused credentials; neither can this.
      throw new IpmiError('no-session', operation, label, 'Error: Unable to establish IPMI v2 / RMCP+ session');
    }
    bmc.calls.push(operation);
    return bmc;
  }

  private control(target: BmcTarget, operation: Exclude<PowerOperation, 'status'>): SimBmc {
    const bmc = this.session(target, operation);
    if (bmc.faults.failControls > 0) {
      bmc.faults.failControls -= 1;
      throw new IpmiError('failed', operation, bmcLabel(target), 'injected failure');
    }
    return bmc;
  }

  private async switchTo(bmc: SimBmc, state: PowerState): Promise<void> {
    if (bmc.power === state) return;
    bmc.power = state;
    await bmc.spec.onPower?.(state);
  }
}
