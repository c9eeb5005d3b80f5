// Image upload and download for the real adapter, streamed with progress.
//
// - raw files go through `rbd import` / `rbd export` themselves: pvc's upload is then exactly as
//   fast as rbd's own (sparse: runs of zeros are not written), and the progress is rbd's own
//   ("Importing image: 42% complete..." on stderr).
// - qcow2, vmdk and vdi are converted by `qemu-img convert` straight into the RBD image (QEMU's
//   librbd driver), after the volume is created at the image's virtual size: -n (target exists),
//   --target-is-zero (a new RBD image reads as zeros, so zeros are skipped), -W (out-of-order
//   writes), -p (progress on stdout).
//
// A failed or timed-out import removes the partial volume. A killed client's watch and lock
// outlive it for about 30 s (osd_client_watch_timeout), during which `rbd rm` waits or answers
// busy, so the removal is retried within the cleanup timeout.
import { existsSync, statSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { CephCliDriver } from './ceph-cli.ts';
import { checkVolume } from './names.ts';
import { lastQemuImgPercent, lastRbdPercent } from './parse-errors.ts';
import { parseQemuImgInfo } from './parse.ts';
import { CephError, isCephError, type ImageFormat, type TransferOptions, type TransferProgress } from './port.ts';

const IMAGE_FORMATS: readonly ImageFormat[] = ['raw', 'qcow2', 'vmdk', 'vdi'];
/** The port promises at most about ten progress calls a second. */
const PROGRESS_INTERVAL_MS = 100;
const CLEANUP_RETRY_MS = 1_000;

export async function importVolume(driver: CephCliDriver, pool: string, name: string, sourcePath: string, format: ImageFormat, options: TransferOptions): Promise<void> {
  const spec = checkVolume('import', pool, name);
  checkTransfer('import', spec, options);
  if (!IMAGE_FORMATS.includes(format)) throw new CephError('invalid', 'import', sourcePath, `unknown image format ${JSON.stringify(format)}: use ${IMAGE_FORMATS.join(', ')}`);
  if (!path.isAbsolute(sourcePath)) throw new CephError('invalid', 'import', sourcePath, `source must be an absolute path, got ${JSON.stringify(sourcePath)}`);
  const sourceBytes = regularFileBytes(sourcePath);
  if (sourceBytes === null) throw new CephError('not-found', 'import', sourcePath, `source file ${sourcePath} does not exist or is not a regular file`);
  const deadline = Date.now() + options.timeoutMs;
  // Checked first (one rbd call, ~40 ms) although rbd import would refuse an existing image too:
  // a failure after this point may then remove what is under the name, since it can only be ours.
  await refuseExisting(driver, pool, name, spec);
  const cli = driver.cli;
  let mayHaveCreated = false;
  try {
    if (format === 'raw') {
      mayHaveCreated = true;
      const report = progressReporter(options, () => sourceBytes);
      await cli.rbdStreaming({ operation: 'import', subject: spec, timeoutMs: remaining(deadline) }, ['import', '--image-format', '2', sourcePath, spec], (chunk) => report(lastRbdPercent(chunk)));
      report(100, true);
      return;
    }
    const infoSpec = { operation: 'import' as const, subject: sourcePath, timeoutMs: Math.min(remaining(deadline), driver.timeouts.queryMs) };
    const info = await cli.tool(infoSpec, 'qemu-img', ['info', '--output', 'json', '-f', format, sourcePath]).catch((error: unknown) => {
      // qemu-img exits 1 for a file that is not in the format named: the caller's mistake.
      throw isCephError(error) ? new CephError('invalid', 'import', sourcePath, `not a ${format} image: ${error.detail}`, { cause: error }) : error;
    });
    const { virtualSizeBytes } = parseQemuImgInfo(info);
    mayHaveCreated = true;
    await driver.createVolume(pool, name, virtualSizeBytes);
    const report = progressReporter(options, () => virtualSizeBytes);
    const args = ['convert', '-p', '-n', '--target-is-zero', '-W', '-f', format, '-O', 'raw', sourcePath, cli.qemuRbdTarget(pool, name)];
    await cli.toolStreaming({ operation: 'import', subject: spec, timeoutMs: remaining(deadline) }, 'qemu-img', args, (chunk) => report(lastQemuImgPercent(chunk)));
    report(100, true);
  } catch (error) {
    // 'exists': another caller created the volume in between; it is theirs, not a partial import.
    if (!mayHaveCreated || isCephError(error, 'exists')) throw isCephError(error) ? asImportError(error, spec) : error;
    throw await withCleanup(error, () => removePartial(driver, spec));
  }
}

export async function exportVolume(driver: CephCliDriver, pool: string, name: string, destinationPath: string, options: TransferOptions): Promise<void> {
  const spec = checkVolume('export', pool, name);
  checkTransfer('export', spec, options);
  if (!path.isAbsolute(destinationPath)) throw new CephError('invalid', 'export', destinationPath, `destination must be an absolute path, got ${JSON.stringify(destinationPath)}`);
  if (existsSync(destinationPath)) throw new CephError('exists', 'export', destinationPath, `destination ${destinationPath} exists already`);
  if (!existsSync(path.dirname(destinationPath))) throw new CephError('not-found', 'export', destinationPath, `folder ${path.dirname(destinationPath)} does not exist`);
  const deadline = Date.now() + options.timeoutMs;
  // The size (for progress in bytes) is asked for while the export runs, not before it.
  let totalBytes: number | null = null;
  const info = driver.volumeInfo(pool, name).then((v) => {
    totalBytes = v.sizeBytes;
  });
  // A failure here (a missing volume) shows as the export's own failure.
  info.catch(() => undefined);
  const report = progressReporter(options, () => totalBytes);
  try {
    await driver.cli.rbdStreaming({ operation: 'export', subject: spec, timeoutMs: remaining(deadline) }, ['export', spec, destinationPath], (chunk) => report(lastRbdPercent(chunk)));
    await info;
    report(100, true);
  } catch (error) {
    // 'exists': someone created the file in between; it is theirs.
    if (isCephError(error, 'exists')) throw error;
    throw await withCleanup(error, async () => rmSync(destinationPath, { force: true }));
  }
}

function checkTransfer(operation: 'import' | 'export', subject: string, options: TransferOptions): void {
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new CephError('invalid', operation, subject, `timeout must be a positive number of ms, got ${options.timeoutMs}`);
}

async function refuseExisting(driver: CephCliDriver, pool: string, name: string, spec: string): Promise<void> {
  try {
    await driver.volumeInfo(pool, name);
  } catch (error) {
    if (isCephError(error, 'not-found')) return;
    throw isCephError(error) ? asImportError(error, spec) : error;
  }
  throw new CephError('exists', 'import', spec, `volume ${spec} exists already`);
}

/** A helper call's error (rbd info, rbd create) as the import's own. */
function asImportError(error: CephError, spec: string): CephError {
  return error.operation === 'import' ? error : new CephError(error.kind, 'import', error.subject ?? spec, error.detail, { cause: error });
}

/** Removes a partial import, waiting out the watch a killed client left behind. */
async function removePartial(driver: CephCliDriver, spec: string): Promise<void> {
  const deadline = Date.now() + driver.timeouts.cleanupMs;
  for (;;) {
    try {
      await driver.cli.rbd({ operation: 'import', subject: spec, timeoutMs: remaining(deadline) }, ['rm', '--no-progress', spec]);
      return;
    } catch (error) {
      if (isCephError(error, 'not-found')) return;
      if (!isCephError(error, 'busy') || Date.now() + CLEANUP_RETRY_MS >= deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, CLEANUP_RETRY_MS));
  }
}

/** The transfer's own error; a failed cleanup is added to its message rather than hiding it. */
async function withCleanup(error: unknown, cleanup: () => Promise<void>): Promise<unknown> {
  try {
    await cleanup();
    return error;
  } catch (cleanupError) {
    if (!isCephError(error)) return error;
    const why = cleanupError instanceof Error ? cleanupError.message : String(cleanupError);
    return new CephError(error.kind, error.operation, error.subject, `${error.detail}; the partial result could not be removed: ${why}`, { cause: error });
  }
}

/**
 * Turns percentages into byte counts and calls onProgress at most every PROGRESS_INTERVAL_MS (and
 * once at the end). Nothing is reported while the total is not known yet.
 */
function progressReporter(options: TransferOptions, total: () => number | null): (percent: number | null, final?: boolean) => void {
  let lastAt = 0;
  let lastPercent = -1;
  return (percent, final = false) => {
    const totalBytes = total();
    if (!options.onProgress || percent === null || totalBytes === null || percent === lastPercent) return;
    const now = Date.now();
    if (!final && now - lastAt < PROGRESS_INTERVAL_MS) return;
    lastAt = now;
    lastPercent = percent;
    const progress: TransferProgress = { doneBytes: Math.round((totalBytes * percent) / 100), totalBytes };
    options.onProgress(progress);
  };
}

function regularFileBytes(file: string): number | null {
  const stat = statSync(file, { throwIfNoEntry: false });
  return stat?.isFile() ? stat.size : null;
}

function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}
