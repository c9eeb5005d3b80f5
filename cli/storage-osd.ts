// pvc storage osd: list, add, remove, out, in.
import type { Command } from 'commander';
import { parseSize } from '../common/storage/size.ts';
import { withClient } from './context.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, parseFormat, render } from './output.ts';
import { confirmOrRefuse, type FormatOptions } from './storage-args.ts';
import { withStorage } from './storage-context.ts';
import { osdListTable } from './storage-tables.ts';

/** Mirrors OSD_FILE_MIN_SIZE_BYTES of the client, without loading it before the command runs. */
const OSD_FILE_MIN_SIZE_BYTES = 1024 ** 3;

export function registerOsd(storage: Command): void {
  const osd = storage.command('osd').description('manage Ceph OSDs (the daemons that store the data)').addHelpText('after', examples(['pvc storage osd list', 'pvc storage osd out 2']));

  osd
    .command('list')
    .description('list the OSDs as the primary last saw them')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc storage osd list']))
    .action(async (options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const { listOsds } = await import('../common/client/storage-list.ts');
      const osds = await withClient(command, (client) => listOsds(client));
      await render(osds, format, () => osdListTable(osds));
    });

  osd
    .command('add')
    .description('create an OSD on a block device (or, with --file-size, on a sparse file: tests and the local cluster)')
    .argument('<device>', 'absolute path of the block device, or of the new file')
    .option('--file-size <size>', 'make <device> a sparse file of this size (e.g. 4G) instead of a block device')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nThe OSD is created, registered and started on this machine.\n' + examples(['pvc storage osd add /dev/sdb', 'pvc storage osd add /var/lib/pvc/osd3.img --file-size 8G']))
    .action(async (device: string, options: FormatOptions & { fileSize?: string }, command: Command) => {
      const format = parseFormat(options.format);
      const fileSizeBytes = options.fileSize === undefined ? undefined : parseSize('--file-size', options.fileSize, { minBytes: OSD_FILE_MIN_SIZE_BYTES });
      const { addOsd, osdBacking } = await import('../common/client/storage-osds.ts');
      const backing = osdBacking(device, fileSizeBytes);
      const result = await withStorage(command, (target) => addOsd(target, backing));
      await render(result, format, () => `added osd.${result.id} on ${device}`);
    });

  osd
    .command('remove')
    .description('remove an OSD that is out and holds no data any more')
    .argument('<id>', 'OSD id (3 or osd.3)')
    .option('--force', 'remove it even though it still holds placement groups (data with no other copy is lost)')
    .option('--yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nMark it out first and wait until Ceph has moved its placement groups away.\n' + examples(['pvc storage osd out 3', 'pvc storage osd remove 3 --yes']))
    .action(async (text: string, options: FormatOptions & { force?: boolean; yes?: boolean }, command: Command) => {
      const format = parseFormat(options.format);
      const { parseOsdId, removeOsd } = await import('../common/client/storage-osds.ts');
      const id = parseOsdId(text);
      await confirmOrRefuse(`remove osd.${id}?`, options.yes, `remove osd.${id}`);
      await withStorage(command, (target) => removeOsd(target, id, { force: options.force === true }));
      await render({ removed: id }, format, () => `removed osd.${id}`);
    });

  for (const wanted of [false, true]) {
    const verb = wanted ? 'in' : 'out';
    osd
      .command(verb)
      .description(wanted ? 'mark an OSD in: Ceph places data on it again' : 'mark an OSD out: Ceph moves its data to the other OSDs')
      .argument('<id>', 'OSD id (3 or osd.3)')
      .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
      .addHelpText('after', examples([`pvc storage osd ${verb} 3`]))
      .action(async (text: string, options: FormatOptions, command: Command) => {
        const format = parseFormat(options.format);
        const { parseOsdId, setOsdIn } = await import('../common/client/storage-osds.ts');
        const id = parseOsdId(text);
        const result = await withStorage(command, (target) => setOsdIn(target, id, wanted));
        await render({ osd: id, in: wanted, changed: result.changed }, format, () => (result.changed ? `marked osd.${id} ${verb}` : `osd.${id} is already ${verb}; nothing changed`));
      });
  }
}
