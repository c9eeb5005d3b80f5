// What went wrong, read from a failed ceph/rbd call (pure, tested on captured stderr). Both CLIs
// exit with the errno of the failure (rbd rm of a missing image: 2, ENOENT); the ceph CLI also
// names it ("Error ENOENT: ..."). Some ceph commands report a no-op with exit 0 and a sentence
// on stderr (removing a missing pool): softFailure reads those.
import type { CephErrorKind } from './port.ts';

const KIND_BY_ERRNO: Readonly<Record<number, CephErrorKind>> = {
  1: 'invalid', // EPERM: ceph wants a --yes-i-really-mean-it the driver did not give
  2: 'not-found', // ENOENT
  16: 'busy', // EBUSY: watchers, a protected snapshot, children, a held lock
  17: 'exists', // EEXIST
  22: 'invalid', // EINVAL
  30: 'busy', // EROFS: another client holds the image's lock, writes are refused
  34: 'invalid', // ERANGE: a setting out of its range
  39: 'busy', // ENOTEMPTY: an image with snapshots
  110: 'timeout', // ETIMEDOUT (a connection time-out is recognised by its message first)
};

const KIND_BY_NAME: Readonly<Record<string, CephErrorKind>> = {
  EPERM: 'invalid',
  ENOENT: 'not-found',
  EBUSY: 'busy',
  EEXIST: 'exists',
  EINVAL: 'invalid',
  EROFS: 'busy',
  ERANGE: 'invalid',
  ENOTEMPTY: 'busy',
  ETIMEDOUT: 'timeout',
};

/** Messages of a client that never reached a monitor. */
const UNREACHABLE = [/couldn't connect to the cluster/i, /error connecting to the cluster/i, /monclient\(hunting\)/i, /^timed out$/m, /RADOS timed out/i];

/** Messages whose errno alone would mislead. */
const BY_MESSAGE: ReadonlyArray<readonly [RegExp, CephErrorKind]> = [
  [/image still has watchers|has watchers - not removing/i, 'busy'],
  [/is protected from removal|snapshot is protected|at least \d+ child/i, 'busy'],
  [/already exists/i, 'exists'],
  [/Invalid command|invalid argument/i, 'invalid'],
];

export function classifyCephFailure(exitCode: number | undefined, stderr: string): CephErrorKind {
  if (UNREACHABLE.some((pattern) => pattern.test(stderr))) return 'unreachable';
  const named = /Error (E[A-Z]+)/.exec(stderr)?.[1];
  if (named !== undefined && KIND_BY_NAME[named] !== undefined) return KIND_BY_NAME[named];
  for (const [pattern, kind] of BY_MESSAGE) if (pattern.test(stderr)) return kind;
  const byErrno = exitCode === undefined ? undefined : KIND_BY_ERRNO[exitCode];
  return byErrno ?? 'failed';
}

/** Sentences with which ceph commands that exit 0 say that they did nothing. */
const SOFT_FAILURES: ReadonlyArray<readonly [RegExp, CephErrorKind]> = [
  [/pool '.*' already exists/, 'exists'],
  [/pool '.*' does not exist/, 'not-found'],
  [/osd\.\d+ does not exist/, 'not-found'],
  [/isn't blocklisted/, 'not-found'],
];

/** The kind of failure a successful-looking ceph call reported on stderr, or null when it did act. */
export function softFailure(stderr: string): CephErrorKind | null {
  for (const [pattern, kind] of SOFT_FAILURES) if (pattern.test(stderr)) return kind;
  return null;
}

/** Ceph's log prefix on a stderr line: "2026-11-22T00:09:03.094+0000 7fd36a79c6c0 -1 ". */
const LOG_PREFIX = /^\d{4}-\d\d-\d\dT\S+ [0-9a-f]+ +-?\d+ /;
const MAX_DETAIL_CHARS = 500;

/**
 * The lines of stderr worth showing: progress output and blank lines dropped, Ceph's log prefix
 * and repeated lines removed, the last few kept (the CLI's own summary comes last).
 */
export function cephErrorDetail(stderr: string): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of stderr.split(/[\r\n]+/)) {
    const line = raw.replace(LOG_PREFIX, '').trim();
    if (line === '' || /% complete\.\.\.(done|failed)?\.?$/.test(line) || seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  const detail = lines.slice(-3).join('; ');
  if (detail === '') return 'no error message';
  return detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS)}...` : detail;
}

/** Percentages in rbd's progress output ("\rImporting image: 42% complete..."), last one wins. */
export function lastRbdPercent(chunk: string): number | null {
  const matches = [...chunk.matchAll(/(\d{1,3})% complete/g)];
  const last = matches.at(-1)?.[1];
  return last === undefined ? null : Math.min(100, Number(last));
}

/** Percentages in `qemu-img convert -p` output ("    (42.19/100%)\r"), last one wins. */
export function lastQemuImgPercent(chunk: string): number | null {
  const matches = [...chunk.matchAll(/\((\d{1,3}(?:\.\d+)?)\/100%\)/g)];
  const last = matches.at(-1)?.[1];
  return last === undefined ? null : Math.min(100, Number(last));
}
