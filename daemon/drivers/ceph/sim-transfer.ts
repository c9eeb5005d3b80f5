// Import and export for the simulated cluster (sim.ts), with the real adapter's checks and
// errors. Raw files are read into memory (the sim is for small test images: at most
// SIM_MAX_IMAGE_BYTES); qcow2, vmdk and vdi are turned into raw by the real qemu-img first, since
// what is simulated is Ceph, not QEMU's image formats. Exports are written sparse.
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExecError, run } from '../../../common/exec.ts';
import { CephError, type ImageFormat, type TransferOptions } from './port.ts';
import type { SimCephState, SimImage } from './sim-model.ts';

const IMAGE_FORMATS: readonly ImageFormat[] = ['raw', 'qcow2', 'vmdk', 'vdi'];
export const SIM_MAX_IMAGE_BYTES = 512 * 1024 ** 2;
const QEMU_IMG_INFO_TIMEOUT_MS = 30_000;

export async function simImport(state: SimCephState, pool: string, name: string, sourcePath: string, format: ImageFormat, options: TransferOptions): Promise<{ sizeBytes: number; data: Buffer }> {
  const spec = `${pool}/${name}`;
  checkTimeout('import', spec, options.timeoutMs);
  if (!IMAGE_FORMATS.includes(format)) throw new CephError('invalid', 'import', sourcePath, `unknown image format ${JSON.stringify(format)}: use ${IMAGE_FORMATS.join(', ')}`);
  if (!path.isAbsolute(sourcePath)) throw new CephError('invalid', 'import', sourcePath, `source must be an absolute path, got ${JSON.stringify(sourcePath)}`);
  const stat = statSync(sourcePath, { throwIfNoEntry: false });
  if (!stat?.isFile()) throw new CephError('not-found', 'import', sourcePath, `source file ${sourcePath} does not exist or is not a regular file`);
  if (state.pool('import', pool, spec).images.has(name)) throw new CephError('exists', 'import', spec, `volume ${spec} exists already`);
  const image = format === 'raw' ? { sizeBytes: stat.size, data: readLimited(sourcePath, stat.size) } : await convertToRaw(sourcePath, format, options.timeoutMs);
  options.onProgress?.({ doneBytes: image.sizeBytes, totalBytes: image.sizeBytes });
  return image;
}

export async function simExport(image: SimImage, spec: string, destinationPath: string, options: TransferOptions): Promise<void> {
  checkTimeout('export', spec, options.timeoutMs);
  if (!path.isAbsolute(destinationPath)) throw new CephError('invalid', 'export', destinationPath, `destination must be an absolute path, got ${JSON.stringify(destinationPath)}`);
  if (existsSync(destinationPath)) throw new CephError('exists', 'export', destinationPath, `destination ${destinationPath} exists already`);
  if (!existsSync(path.dirname(destinationPath))) throw new CephError('not-found', 'export', destinationPath, `folder ${path.dirname(destinationPath)} does not exist`);
  const fd = openSync(destinationPath, 'wx', 0o644);
  try {
    const data = image.data.subarray(0, image.sizeBytes);
    for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset, data.length - offset, offset);
    ftruncateSync(fd, image.sizeBytes);
  } finally {
    closeSync(fd);
  }
  options.onProgress?.({ doneBytes: image.sizeBytes, totalBytes: image.sizeBytes });
}

async function convertToRaw(sourcePath: string, format: ImageFormat, timeoutMs: number): Promise<{ sizeBytes: number; data: Buffer }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pvc-sim-import-'));
  try {
    const raw = path.join(dir, 'image.raw');
    try {
      await run('qemu-img', ['info', '--output', 'json', '-f', format, sourcePath], { timeoutMs: Math.min(timeoutMs, QEMU_IMG_INFO_TIMEOUT_MS) });
    } catch (error) {
      const detail = error instanceof ExecError ? error.stderr.trim() : String(error);
      throw new CephError('invalid', 'import', sourcePath, `not a ${format} image: ${detail}`, { cause: error });
    }
    try {
      await run('qemu-img', ['convert', '-f', format, '-O', 'raw', sourcePath, raw], { timeoutMs });
    } catch (error) {
      const timedOut = error instanceof ExecError && error.timedOut;
      const detail = error instanceof ExecError ? error.stderr.trim() : String(error);
      throw new CephError(timedOut ? 'timeout' : 'failed', 'import', `${sourcePath}`, timedOut ? `qemu-img did not finish within ${timeoutMs} ms` : detail, { cause: error });
    }
    const size = statSync(raw).size;
    return { sizeBytes: size, data: readLimited(raw, size) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readLimited(file: string, size: number): Buffer {
  if (size > SIM_MAX_IMAGE_BYTES) throw new CephError('invalid', 'import', file, `the simulation holds images of at most ${SIM_MAX_IMAGE_BYTES} bytes, got ${size}`);
  return readFileSync(file);
}

function checkTimeout(operation: 'import' | 'export', subject: string, timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CephError('invalid', operation, subject, `timeout must be a positive number of ms, got ${timeoutMs}`);
}
