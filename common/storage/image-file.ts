// A local disk image about to be uploaded: its format (given, or by file extension) and the size
// it will have as a volume. Raw images are as large as the file; for qcow2, vmdk and vdi qemu-img
// reads the virtual size from the header (the file may be far smaller, or larger).
import fs from 'node:fs';
import path from 'node:path';
import type { ImageFormat } from '../../daemon/drivers/ceph/port.ts';
import { PvcError, errorMessage } from '../errors.ts';
import { run } from '../exec.ts';

export const IMAGE_FORMATS: readonly ImageFormat[] = ['raw', 'qcow2', 'vmdk', 'vdi'];
/** qemu-img info reads a header: well under a second, even for a large file. */
export const IMAGE_INFO_TIMEOUT_MS = 30_000;

const FORMAT_BY_EXTENSION: Record<string, ImageFormat> = { '.qcow2': 'qcow2', '.qcow': 'qcow2', '.vmdk': 'vmdk', '.vdi': 'vdi' };
/** First bytes of the formats a raw upload must not be: uploading them raw stores the container, not the disk. */
const MAGIC: ReadonlyArray<[ImageFormat, Buffer]> = [
  ['qcow2', Buffer.from('QFI\xfb', 'latin1')],
  ['vmdk', Buffer.from('KDMV', 'latin1')],
];

export function parseImageFormat(text: string): ImageFormat {
  if ((IMAGE_FORMATS as readonly string[]).includes(text)) return text as ImageFormat;
  throw new PvcError('bad-input', `invalid image format ${JSON.stringify(text)}: use one of ${IMAGE_FORMATS.join(', ')}`);
}

/** .qcow2/.qcow, .vmdk, .vdi by name; anything else is raw. */
export function formatByExtension(file: string): ImageFormat {
  return FORMAT_BY_EXTENSION[path.extname(file).toLowerCase()] ?? 'raw';
}

export interface ImageFile {
  path: string;
  format: ImageFormat;
  fileBytes: number;
  /** The volume's size once uploaded. */
  virtualBytes: number;
}

/**
 * Checks the file and finds its size as a volume. When the format was not given and the name
 * says raw, a file that starts like qcow2 or vmdk is refused rather than stored as-is.
 */
export async function inspectImageFile(file: string, given: ImageFormat | undefined): Promise<ImageFile> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new PvcError('bad-input', `cannot read image file ${file}: ${errorMessage(error)}`);
  }
  if (!stat.isFile()) throw new PvcError('bad-input', `image file ${file} is not a regular file`);
  if (stat.size === 0) throw new PvcError('bad-input', `image file ${file} is empty`);
  const format = given ?? formatByExtension(file);
  if (format === 'raw') {
    if (given === undefined) refuseDisguised(file);
    return { path: file, format, fileBytes: stat.size, virtualBytes: stat.size };
  }
  return { path: file, format, fileBytes: stat.size, virtualBytes: await virtualSize(file, format) };
}

function refuseDisguised(file: string): void {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const found = MAGIC.find(([, magic]) => head.equals(magic));
  if (found) throw new PvcError('bad-input', `image file ${file} looks like ${found[0]}, not raw: give --image-format ${found[0]} (or --image-format raw to store it as it is)`);
}

async function virtualSize(file: string, format: ImageFormat): Promise<number> {
  let info: unknown;
  try {
    const { stdout } = await run('qemu-img', ['info', '--output=json', '-f', format, file], { timeoutMs: IMAGE_INFO_TIMEOUT_MS });
    info = JSON.parse(stdout);
  } catch (error) {
    throw new PvcError('bad-input', `image file ${file} is not a readable ${format} image: ${errorMessage(error)}`);
  }
  const size = (info as { 'virtual-size'?: unknown })['virtual-size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) throw new PvcError('bad-input', `image file ${file}: qemu-img gave no virtual size`);
  return size;
}
