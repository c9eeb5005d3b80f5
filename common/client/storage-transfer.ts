// `volume upload` and `volume download`: the bytes go between a local file and Ceph through the
// driver (rbd import/export; qcow2, vmdk and vdi converted to raw on the way in). An upload is a
// new volume: it holds a reservation for the image's virtual size while the fullness rule is
// checked and the bytes move, and its spec is written once Ceph has the whole image.
import fs from 'node:fs';
import path from 'node:path';
import type { ImageFormat, TransferProgress } from '../../daemon/drivers/ceph/port.ts';
import { PvcError } from '../errors.ts';
import { inspectImageFile } from '../storage/image-file.ts';
import { volumeRefText, type VolumeRef } from '../storage/refs.ts';
import { VOLUME_MAX_SIZE_BYTES, type VolumeSpec } from '../zk/schema.ts';
import { mustReadVolume } from './storage-read.ts';
import { withReservation } from './storage-reserve.ts';
import { cephErrorKind, cephFailed, cephStep, type StorageTarget } from './storage-target.ts';
import { cephImageExists, mustBeFreeVolume, recordVolume } from './storage-volume-add.ts';

/** A transfer of a large image over a slow link may take long; past this it is given up. */
export const DEFAULT_TRANSFER_TIMEOUT_MS = 6 * 3_600_000;

export interface TransferOptions {
  onProgress?: (progress: TransferProgress) => void;
  timeoutMs?: number;
}

export interface UploadResult {
  spec: VolumeSpec;
  format: ImageFormat;
  fileBytes: number;
}

export async function uploadVolume(target: StorageTarget, ref: VolumeRef, file: string, format: ImageFormat | undefined, options: TransferOptions = {}): Promise<UploadResult> {
  const image = await inspectImageFile(path.resolve(file), format);
  if (image.virtualBytes > VOLUME_MAX_SIZE_BYTES) throw new PvcError('bad-input', `image file ${file} is ${image.virtualBytes} bytes, more than a volume may hold`);
  await mustBeFreeVolume(target, ref);
  const what = `cannot upload ${file} to volume ${volumeRefText(ref)}`;
  return withReservation(target, { pool: ref.pool, volume: ref.volume, bytes: image.virtualBytes, operation: 'upload' }, what, async () => {
    try {
      await target.ceph.importVolume(ref.pool, ref.volume, image.path, image.format, { onProgress: options.onProgress, timeoutMs: options.timeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS });
    } catch (error) {
      if (cephErrorKind(error) === 'exists') throw cephImageExists(what, ref, error);
      throw cephFailed(what, error);
    }
    // The image has the virtual size: rbd import makes it the raw file's size, a conversion
    // creates it at the size qemu-img reported, which inspectImageFile read too (no read-back).
    const spec: VolumeSpec = { name: ref.volume, pool: ref.pool, sizeBytes: image.virtualBytes, parent: null };
    await recordVolume(target, spec);
    return { spec, format: image.format, fileBytes: image.fileBytes };
  });
}

export interface DownloadOptions extends TransferOptions {
  /** Replace the destination file when it exists. */
  overwrite?: boolean;
}

/**
 * Writes the volume's raw bytes to a new file (rbd export writes sparse files). Not to a pipe:
 * the driver's export needs a file it creates, and the CLI's stdout is for its result.
 */
export async function downloadVolume(target: StorageTarget, ref: VolumeRef, file: string, options: DownloadOptions = {}): Promise<{ sizeBytes: number; file: string }> {
  const facts = await mustReadVolume(target, ref);
  const destination = path.resolve(file);
  const what = `cannot download volume ${volumeRefText(ref)} to ${destination}`;
  if (!fs.existsSync(path.dirname(destination))) throw new PvcError('bad-input', `${what}: folder ${path.dirname(destination)} does not exist`);
  if (fs.existsSync(destination)) {
    if (!options.overwrite) throw new PvcError('refused', `${what}: the file exists; give --overwrite to replace it`);
    if (!fs.statSync(destination).isFile()) throw new PvcError('refused', `${what}: it is not a regular file`);
    // The export refuses an existing file; --overwrite is the person's consent to replace it.
    fs.rmSync(destination);
  }
  await cephStep(what, () => target.ceph.exportVolume(ref.pool, ref.volume, destination, { onProgress: options.onProgress, timeoutMs: options.timeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS }));
  return { sizeBytes: facts.status?.sizeBytes ?? facts.spec.value.sizeBytes, file: destination };
}
