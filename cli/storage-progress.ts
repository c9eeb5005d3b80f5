// The progress bar of `volume upload|download`: redrawn in place on stderr when it is a
// terminal (stdout stays for the result), silent otherwise
// so that logs of scripts do not fill with bars.
import { formatSize } from '../common/storage/size.ts';
import { endStatusLine, printStatusLine, stderrIsTerminal } from './output.ts';

export interface Progress {
  doneBytes: number;
  totalBytes: number | null;
}

const BAR_WIDTH = 30;
/** Redraws faster than this only flicker. */
const REDRAW_INTERVAL_MS = 100;

/** e.g. `upload vms/img [=========>          ] 33% 1.5 GiB / 4.5 GiB 120.3 MiB/s` */
export function progressBarText(label: string, progress: Progress, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? `${formatSize(Math.round((progress.doneBytes * 1000) / elapsedMs))}/s` : '';
  if (progress.totalBytes === null || progress.totalBytes <= 0) return `${label} ${formatSize(progress.doneBytes)} ${rate}`.trimEnd();
  const share = Math.min(1, progress.doneBytes / progress.totalBytes);
  const filled = Math.floor(share * BAR_WIDTH);
  const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (share >= 1 ? '=' : '>') : ''}`.padEnd(BAR_WIDTH);
  return `${label} [${bar}] ${Math.floor(share * 100)}% ${formatSize(progress.doneBytes)} / ${formatSize(progress.totalBytes)} ${rate}`.trimEnd();
}

export interface ProgressReporter {
  onProgress: (progress: Progress) => void;
  /** Ends the bar's line, if one was drawn. */
  finish(): void;
}

export function progressReporter(label: string, now: () => number = () => performance.now()): ProgressReporter {
  const startedAt = now();
  let lastDrawAt = -Infinity;
  let drawn = false;
  const show = stderrIsTerminal();
  return {
    onProgress(progress) {
      if (!show) return;
      const at = now();
      const complete = progress.totalBytes !== null && progress.doneBytes >= progress.totalBytes;
      if (!complete && at - lastDrawAt < REDRAW_INTERVAL_MS) return;
      lastDrawAt = at;
      drawn = true;
      printStatusLine(progressBarText(label, progress, at - startedAt));
    },
    finish() {
      if (drawn) endStatusLine();
      drawn = false;
    },
  };
}
