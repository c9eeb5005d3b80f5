// Fault settings of every driver simulation (hypervisor, Ceph, links, FRR, firewall, dnsmasq,
// PowerDNS, gateway), typed by the driver's error kinds: make the next calls fail, hang until
// their timeout, or make every call slow. Faults are used in call order, so a test that sets them
// and then drives a controller sees the same failures on every run.

export interface InjectedFailure<K extends string> {
  kind: K;
  detail: string;
}

export class SimFaults<K extends string> {
  private readonly failures: Array<InjectedFailure<K>> = [];
  private hangs = 0;
  /** Added to every call, before it acts. */
  slowMs = 0;

  constructor(private readonly defaultKind: K) {}

  /** The next `count` calls fail with this kind (and do nothing). */
  failNext(count = 1, kind: K = this.defaultKind, detail = 'injected failure'): void {
    for (let i = 0; i < count; i += 1) this.failures.push({ kind, detail });
  }

  /** The next `count` calls hang until their own timeout, then fail with a timeout (and do nothing). */
  hangNext(count = 1): void {
    this.hangs += count;
  }

  setSlow(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`sim faults: slowMs must be >= 0, got ${ms}`);
    this.slowMs = ms;
  }

  clear(): void {
    this.failures.length = 0;
    this.hangs = 0;
    this.slowMs = 0;
  }

  /** What the call now starting must suffer: a hang wins over a failure; each is used once. */
  take(): { hang: boolean; failure: InjectedFailure<K> | null } {
    if (this.hangs > 0) {
      this.hangs -= 1;
      return { hang: true, failure: null };
    }
    return { hang: false, failure: this.failures.shift() ?? null };
  }
}

export const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
