// A client probing a service without pause: a new probe starts every intervalMs whether or not
// the earlier ones have finished (a probe that gets no answer waits out its own timeout), so an
// outage is seen with that resolution. Each probe's start, end and outcome are kept (Date.now()
// milliseconds, comparable with the pvcd journals).
export interface ProbeResult {
  startMs: number;
  endMs: number;
  ok: boolean;
}

export class ProbeLoop {
  readonly results: ProbeResult[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly probe: () => Promise<boolean>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const launch = (): void => {
      const startMs = Date.now();
      const done = this.probe()
        .catch(() => false)
        .then((ok) => {
          this.results.push({ startMs, endMs: Date.now(), ok });
        });
      this.inFlight.add(done);
      void done.finally(() => this.inFlight.delete(done));
    };
    launch();
    this.timer = setInterval(launch, this.intervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
  }

  /**
   * The longest stretch without an answer around `ms`: between two successive successful probe
   * ends, the later at or after `ms`. Returns where it began and ended.
   */
  longestGapAfter(ms: number): { fromMs: number; toMs: number } | null {
    const ends = this.results.filter((r) => r.ok).map((r) => r.endMs).sort((a, b) => a - b);
    let best: { fromMs: number; toMs: number } | null = null;
    for (let i = 1; i < ends.length; i += 1) {
      const [from, to] = [ends[i - 1] as number, ends[i] as number];
      if (to < ms) continue;
      if (!best || to - from > best.toMs - best.fromMs) best = { fromMs: from, toMs: to };
    }
    return best;
  }

  /** True once the last `count` finished probes that started at or after `ms` all succeeded. */
  steadyFrom(ms: number, count: number): boolean {
    const last = this.results.filter((r) => r.startMs >= ms).sort((a, b) => a.endMs - b.endMs).slice(-count);
    return last.length === count && last.every((r) => r.ok);
  }
}
