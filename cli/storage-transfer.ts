// pvc storage volume upload|download: disk images between a local file and a volume, with a
// progress bar on a terminal.
import type { Command } from 'commander';
import { parseVolumeRef, volumeRefText } from '../common/storage/refs.ts';
import { formatSize } from '../common/storage/size.ts';
import { parseMs } from './args.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, parseFormat, render } from './output.ts';
import type { FormatOptions } from './storage-args.ts';
import { withStorage } from './storage-context.ts';
import { progressReporter } from './storage-progress.ts';

/** Mirrors DEFAULT_TRANSFER_TIMEOUT_MS of the client (6 h), without loading it before the command runs. */
const DEFAULT_TRANSFER_TIMEOUT_MS = 6 * 3_600_000;
const TRANSFER_TIMEOUT_MAX_MS = 7 * 24 * 3_600_000;

interface TransferCliOptions extends FormatOptions {
  timeoutMs?: string;
}

function timeoutOf(options: TransferCliOptions): number {
  return options.timeoutMs === undefined ? DEFAULT_TRANSFER_TIMEOUT_MS : parseMs('--timeout-ms', options.timeoutMs, 1_000, TRANSFER_TIMEOUT_MAX_MS);
}

export function registerTransfers(volume: Command): void {
  volume
    .command('upload')
    .description('create a volume from a disk image file (raw, or qcow2/vmdk/vdi converted to raw)')
    .argument('<volume>', 'the new pool/volume')
    .argument('<file>', 'the image file')
    .option('--image-format <format>', 'raw, qcow2, vmdk or vdi (default: by extension: .qcow2/.qcow, .vmdk, .vdi, else raw)')
    .option('--timeout-ms <ms>', 'give up (and remove the partial volume) after this long (default: 6 hours)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nThe volume gets the image\'s virtual size, which counts against the pool\'s fullness limit. A file\n' +
        'whose name says raw but that starts like qcow2 or vmdk is refused unless --image-format is given.\n' +
        'The progress bar is drawn on stderr when it is a terminal.\n' +
        examples(['pvc storage volume upload vms/debian12 debian-12-genericcloud-amd64.qcow2', 'pvc storage volume upload vms/base base.img --image-format raw']),
    )
    .action(async (text: string, file: string, options: TransferCliOptions & { imageFormat?: string }, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseVolumeRef(text);
      const timeoutMs = timeoutOf(options);
      const [{ parseImageFormat }, { uploadVolume }] = await Promise.all([import('../common/storage/image-file.ts'), import('../common/client/storage-transfer.ts')]);
      const imageFormat = options.imageFormat === undefined ? undefined : parseImageFormat(options.imageFormat);
      const progress = progressReporter(`upload ${volumeRefText(ref)}`);
      const startedAt = performance.now();
      try {
        const result = await withStorage(command, (target) => uploadVolume(target, ref, file, imageFormat, { onProgress: progress.onProgress, timeoutMs }));
        progress.finish();
        const elapsedMs = Math.round(performance.now() - startedAt);
        await render({ ...result, elapsedMs }, format, () => `uploaded ${file} (${result.format}, ${formatSize(result.fileBytes)}) to volume ${volumeRefText(ref)} (${formatSize(result.spec.sizeBytes)}) in ${elapsedMs} ms`);
      } finally {
        progress.finish();
      }
    });

  volume
    .command('download')
    .description("write a volume's raw bytes to a new file")
    .argument('<volume>', 'pool/volume')
    .argument('<file>', 'destination file (written sparse)')
    .option('--overwrite', 'replace the file when it exists')
    .option('--timeout-ms <ms>', 'give up after this long (default: 6 hours)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nTo get another format, convert the raw file with qemu-img convert. The progress bar is drawn on\nstderr when it is a terminal.\n' + examples(['pvc storage volume download vms/disk0 disk0.raw', 'pvc storage volume download vms/disk0 /backup/disk0.raw --overwrite']))
    .action(async (text: string, file: string, options: TransferCliOptions & { overwrite?: boolean }, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseVolumeRef(text);
      const timeoutMs = timeoutOf(options);
      const { downloadVolume } = await import('../common/client/storage-transfer.ts');
      const progress = progressReporter(`download ${volumeRefText(ref)}`);
      const startedAt = performance.now();
      try {
        const result = await withStorage(command, (target) => downloadVolume(target, ref, file, { onProgress: progress.onProgress, timeoutMs, overwrite: options.overwrite === true }));
        progress.finish();
        const elapsedMs = Math.round(performance.now() - startedAt);
        await render({ ...result, elapsedMs }, format, () => `downloaded volume ${volumeRefText(ref)} (${formatSize(result.sizeBytes)}) to ${result.file} in ${elapsedMs} ms`);
      } finally {
        progress.finish();
      }
    });
}
