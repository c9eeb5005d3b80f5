// Fault settings of the simulated Ceph cluster: make the next calls fail, hang until their
// timeout, or make every call slow. Faults are consumed in call order, so a test that sets them
// and then drives pvc sees the same failures on every run (as the hypervisor sim's faults).
import type { CephErrorKind } from './port.ts';

export interface InjectedCephFailure {
  kind: CephErrorKind;
  detail: string;
}

export class SimCephFaults {
  private readonly failures: InjectedCephFailure[] = [];
  private hangs = 0;
  /** Added to every call, before it acts. */
  slowMs = 0;

  /** The next `count` calls fail with this kind (and do nothing). */
  failNext(count = 1, kind: CephErrorKind = 'failed', detail = 'injected failure'): void {
    for (let i = 0; i < count; i += 1) this.failures.push({ kind, detail });
  }

  /** The next `count` calls hang until their own timeout, then fail with 'timeout' (and do nothing). */
  hangNext(count = 1): void {
    this.hangs += count;
  }

  setSlow(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`sim ceph faults: slowMs must be >= 0, got ${ms}`);
    this.slowMs = ms;
  }

  clear(): void {
    this.failures.length = 0;
    this.hangs = 0;
    this.slowMs = 0;
  }

  /** What the call now starting must suffer: a hang wins over a failure; each is used once. */
  take(): { hang: boolean; failure: InjectedCephFailure | null } {
    if (this.hangs > 0) {
      this.hangs -= 1;
      return { hang: true, failure: null };
    }
    return { hang: false, failure: this.failures.shift() ?? null };
  }
}
