// pvc storage volume snapshot: add, remove, rollback, protect, unprotect, list.
// Snapshots are named pool/volume@snapshot.
import type { Command } from 'commander';
import { parseSnapshotRef, parseVolumeRef, snapshotRefText, volumeRefText } from '../common/storage/refs.ts';
import { withClient } from './context.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, parseFormat, render } from './output.ts';
import { confirmOrRefuse, type FormatOptions } from './storage-args.ts';
import { withStorage } from './storage-context.ts';
import { snapshotListTable } from './storage-tables.ts';

interface YesOptions extends FormatOptions {
  yes?: boolean;
}

export function registerSnapshot(volume: Command): void {
  const snapshot = volume
    .command('snapshot')
    .description('manage snapshots of a volume (pool/volume@snapshot)')
    .addHelpText('after', examples(['pvc storage volume snapshot add vms/base@gold', 'pvc storage volume snapshot list vms/base']));

  snapshot
    .command('add')
    .description('take a snapshot of a volume')
    .argument('<snapshot>', 'pool/volume@snapshot')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nA snapshot of a volume in use holds what was written so far; stop the vm (or freeze its file\nsystems) first for a consistent one.\n' + examples(['pvc storage volume snapshot add vms/base@gold']))
    .action(async (text: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseSnapshotRef(text);
      const { addSnapshot } = await import('../common/client/storage-snapshots.ts');
      const spec = await withStorage(command, (target) => addSnapshot(target, ref));
      await render(spec, format, () => `added snapshot ${snapshotRefText(ref)}`);
    });

  snapshot
    .command('remove')
    .description('remove a snapshot (not a protected one, nor one with clones)')
    .argument('<snapshot>', 'pool/volume@snapshot')
    .option('--yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc storage volume snapshot remove vms/base@old --yes']))
    .action(async (text: string, options: YesOptions, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseSnapshotRef(text);
      await confirmOrRefuse(`remove snapshot ${snapshotRefText(ref)}?`, options.yes, `remove snapshot ${snapshotRefText(ref)}`);
      const { removeSnapshot } = await import('../common/client/storage-snapshots.ts');
      await withStorage(command, (target) => removeSnapshot(target, ref));
      await render({ removed: snapshotRefText(ref) }, format, () => `removed snapshot ${snapshotRefText(ref)}`);
    });

  snapshot
    .command('rollback')
    .description("roll a volume back to a snapshot (what was written since is lost)")
    .argument('<snapshot>', 'pool/volume@snapshot')
    .option('--yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nRefused while any client has the volume open (a running vm): stop it first.\n' + examples(['pvc storage volume snapshot rollback vms/disk0@before-upgrade --yes']))
    .action(async (text: string, options: YesOptions, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseSnapshotRef(text);
      await confirmOrRefuse(`roll volume ${volumeRefText(ref)} back to @${ref.snapshot}, losing what was written since?`, options.yes, `roll back volume ${volumeRefText(ref)}`);
      const { rollbackSnapshot } = await import('../common/client/storage-snapshots.ts');
      await withStorage(command, (target) => rollbackSnapshot(target, ref));
      await render({ rolledBack: volumeRefText(ref), to: ref.snapshot }, format, () => `rolled volume ${volumeRefText(ref)} back to @${ref.snapshot}`);
    });

  for (const wanted of [true, false]) {
    const verb = wanted ? 'protect' : 'unprotect';
    snapshot
      .command(verb)
      .description(wanted ? 'protect a snapshot, so that it can be cloned and cannot be removed' : 'unprotect a snapshot that has no clones')
      .argument('<snapshot>', 'pool/volume@snapshot')
      .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
      .addHelpText('after', examples([`pvc storage volume snapshot ${verb} vms/base@gold`]))
      .action(async (text: string, options: FormatOptions, command: Command) => {
        const format = parseFormat(options.format);
        const ref = parseSnapshotRef(text);
        const { setSnapshotProtected } = await import('../common/client/storage-snapshots.ts');
        const result = await withStorage(command, (target) => setSnapshotProtected(target, ref, wanted));
        await render({ snapshot: snapshotRefText(ref), protected: wanted, changed: result.changed }, format, () =>
          result.changed ? `${verb}ed snapshot ${snapshotRefText(ref)}` : `snapshot ${snapshotRefText(ref)} is already ${wanted ? 'protected' : 'unprotected'}; nothing changed`,
        );
      });
  }

  snapshot
    .command('list')
    .description('list the snapshots of a volume')
    .argument('<volume>', 'pool/volume')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc storage volume snapshot list vms/base']))
    .action(async (text: string, options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const ref = parseVolumeRef(text);
      const { listSnapshots } = await import('../common/client/storage-list.ts');
      const snapshots = await withClient(command, (client) => listSnapshots(client, ref));
      await render(snapshots, format, () => snapshotListTable(snapshots));
    });
}
