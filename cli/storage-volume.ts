// pvc storage volume: add, remove, resize, rename, clone, list, info; upload and download
// (cli/storage-transfer.ts); snapshot ... (cli/storage-snapshot.ts). Volumes are named pool/volume.
import type { Command } from 'commander';
import { parseSnapshotRef, parseVolumeRef, volumeRefText } from '../common/storage/refs.ts';
import { PvcError } from '../common/errors.ts';
import { formatSize } from '../common/storage/size.ts';
import { assertStorageName } from '../common/storage/names.ts';
import { withClient } from './context.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, parseFormat, render } from './output.ts';
import { confirmOrRefuse, parseVolumeSize, type FormatOptions } from './storage-args.ts';
import { withStorage } from './storage-context.ts';
import { registerSnapshot } from './storage-snapshot.ts';
import { volumeInfoText, volumeListTable } from './storage-tables.ts';
import { registerTransfers } from './storage-transfer.ts';

const SIZE_ARG = 'size with a unit: 10G, 512M, 1.5T (binary units)';

export function registerVolume(storage: Command): void {
  const volume = storage
    .command('volume')
    .description('manage RBD volumes (pool/volume), their snapshots and copy-on-write clones')
    .addHelpText('after', examples(['pvc storage volume add vms/disk0 10G', 'pvc storage volume list --pool vms', 'pvc storage volume clone vms/base@gold vms/web1']));

  volume
    .command('add')
    .description('create a volume')
    .argument('<volume>', 'pool/volume')
    .argument('<size>', SIZE_ARG)
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nRefused when it would fill the pool past the fullness limit (pvc storage settings), counting\nits full size.\n' + examples(['pvc storage volume add vms/disk0 10G']))
    .action(async (text: string, sizeText: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseVolumeRef(text);
      const sizeBytes = parseVolumeSize(sizeText);
      const { addVolume } = await import('../common/client/storage-volume-add.ts');
      const spec = await withStorage(command, (target) => addVolume(target, ref, sizeBytes));
      await render(spec, format, () => `added volume ${volumeRefText(ref)} (${formatSize(spec.sizeBytes)})`);
    });

  volume
    .command('remove')
    .description('remove a volume and its snapshots')
    .argument('<volume>', 'pool/volume')
    .option('--yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nRefused while a vm spec names it as a disk (in any state), or while a snapshot of it has clones.\n' + examples(['pvc storage volume remove vms/disk0 --yes']))
    .action(async (text: string, options: FormatOptions & { yes?: boolean }, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseVolumeRef(text);
      await confirmOrRefuse(`remove volume ${volumeRefText(ref)} and its data?`, options.yes, `remove volume ${volumeRefText(ref)}`);
      const { removeVolume } = await import('../common/client/storage-volume-remove.ts');
      const result = await withStorage(command, (target) => removeVolume(target, ref));
      const snapshots = result.snapshotsRemoved.length ? ` with snapshot(s) ${result.snapshotsRemoved.join(', ')}` : '';
      await render(result, format, () => `removed volume ${volumeRefText(ref)}${snapshots}${result.wasInCeph ? '' : ' (ceph no longer had it)'}`);
    });

  volume
    .command('resize')
    .description('grow (or, with --allow-shrink, shrink) a volume')
    .argument('<volume>', 'pool/volume')
    .argument('<size>', `the new ${SIZE_ARG}`)
    .option('--allow-shrink', 'allow a smaller size: the data past it is lost')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nGrowing counts the added size against the fullness limit. The guest sees the new size after\na rescan or restart.\n' + examples(['pvc storage volume resize vms/disk0 20G']))
    .action(async (text: string, sizeText: string, options: FormatOptions & { allowShrink?: boolean }, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseVolumeRef(text);
      const sizeBytes = parseVolumeSize(sizeText);
      const { resizeVolume } = await import('../common/client/storage-volume-change.ts');
      const result = await withStorage(command, (target) => resizeVolume(target, ref, sizeBytes, { allowShrink: options.allowShrink === true }));
      await render(result, format, () =>
        result.changed ? `resized volume ${volumeRefText(ref)} from ${formatSize(result.previousSizeBytes)} to ${formatSize(sizeBytes)}` : `volume ${volumeRefText(ref)} is already ${formatSize(sizeBytes)}; nothing changed`,
      );
    });

  volume
    .command('rename')
    .description('rename a volume within its pool')
    .argument('<volume>', 'pool/volume')
    .argument('<name>', 'the new volume name')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nRefused while a vm spec names it as a disk. Its clones keep working and are recorded with the new name.\n' + examples(['pvc storage volume rename vms/disk0 disk-old']))
    .action(async (text: string, name: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseVolumeRef(text);
      assertStorageName('volume', name);
      const { renameVolume } = await import('../common/client/storage-volume-change.ts');
      const spec = await withStorage(command, (target) => renameVolume(target, ref, name));
      await render(spec, format, () => `renamed volume ${volumeRefText(ref)} to ${spec.pool}/${spec.name}`);
    });

  volume
    .command('clone')
    .description('make copy-on-write clones of a snapshot (RBD layering: instant, no copy)')
    .argument('<snapshot>', 'pool/volume@snapshot to clone')
    .argument('<volume...>', 'the new volume(s): pool/volume, or just a name for the same pool')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nThe source is always a snapshot: one frozen point that any number of clones share (take one\n' +
        'with pvc storage volume snapshot add). It is protected first if it is not yet, as RBD requires;\n' +
        'it cannot be unprotected or removed while clones exist. The clone counts with its full size\n' +
        'against the fullness limit of its pool. Several volumes are cloned at once (a few in flight\n' +
        'together); each is reported, and a failed one leaves the others made (exit 1).\n' +
        examples(['pvc storage volume snapshot add vms/debian12@gold', 'pvc storage volume clone vms/debian12@gold vms/web1-disk0', 'pvc storage volume clone vms/debian12@gold web2-disk0 web3-disk0 web4-disk0']),
    )
    .action(async (sourceText: string, destTexts: string[], options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const source = parseSnapshotRef(sourceText);
      const dests = destTexts.map((text) => parseVolumeRef(text, source.pool));
      if (dests.length === 1) {
        const dest = dests[0] as (typeof dests)[number];
        const { cloneVolume } = await import('../common/client/storage-volume-add.ts');
        const result = await withStorage(command, (target) => cloneVolume(target, source, dest));
        await render(result, format, () => `cloned ${sourceText} to ${volumeRefText(dest)}${result.protectedSource ? ` (protected ${sourceText} first)` : ''}`);
        return;
      }
      const { cloneMany } = await import('../common/client/storage-clone-many.ts');
      const outcomes = await withStorage(command, (target) => cloneMany(target, source, dests));
      await render(outcomes, format, () =>
        outcomes.map((o) => (o.cloned ? `cloned ${sourceText} to ${o.volume}${o.protectedSource ? ` (protected ${sourceText} first)` : ''}` : `not cloned to ${o.volume}: ${o.error}`)).join('\n'),
      );
      const failed = outcomes.filter((o) => !o.cloned);
      if (failed.length > 0) throw new PvcError('refused', `${failed.length} of ${outcomes.length} clones of ${sourceText} failed: ${failed.map((o) => o.volume).join(', ')}`);
    });

  volume
    .command('list')
    .description('list the volumes pvc manages, with size, clone parent and the vms using them')
    .option('--pool <pool>', 'only volumes of this pool')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc storage volume list', 'pvc storage volume list --pool vms --format json']))
    .action(async (options: FormatOptions & { pool?: string }, command: Command) => {
      const format = parseFormat(options.format);
      if (options.pool !== undefined) assertStorageName('pool', options.pool);
      const { listVolumes } = await import('../common/client/storage-list.ts');
      const volumes = await withClient(command, (client) => listVolumes(client, { pool: options.pool }));
      await render(volumes, format, () => volumeListTable(volumes));
    });

  volume
    .command('info')
    .description('show one volume: size, parent, users, clones, snapshots, what Ceph reports')
    .argument('<volume>', 'pool/volume')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc storage volume info vms/disk0']))
    .action(async (text: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseVolumeRef(text);
      const { volumeInfo } = await import('../common/client/storage-list.ts');
      const view = await withClient(command, (client) => volumeInfo(client, ref));
      await render(view, format, () => volumeInfoText(view));
    });

  registerTransfers(volume);
  registerSnapshot(volume);
}
