// pvc storage: status, util, settings, and the pool, volume (with snapshot) and osd groups
// (cli/storage-pool.ts, storage-volume.ts, storage-snapshot.ts, storage-osd.ts). Reads come from
// ZooKeeper (specs, and the status the primary refreshes from Ceph); changes act on Ceph through
// the connection's Ceph settings and then record the result (cli/storage-context.ts).
import type { Command } from 'commander';
import { withClient } from './context.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, parseFormat, render } from './output.ts';
import type { FormatOptions } from './storage-args.ts';
import { registerOsd } from './storage-osd.ts';
import { registerPool } from './storage-pool.ts';
import { registerVolume } from './storage-volume.ts';
import { storageStatusText, utilTable } from './storage-tables.ts';

export function registerStorage(program: Command): void {
  const storage = program
    .command('storage')
    .description('manage Ceph storage: pools, volumes, snapshots and OSDs')
    .addHelpText(
      'after',
      '\nChanges act on Ceph through the connection\'s Ceph settings (pvc connection add ... --ceph-conf F)\n' +
        'and are recorded in the cluster right after; lists and status read what the primary last\nrefreshed from Ceph (every 10 s by default).\n' +
        examples(['pvc storage status', 'pvc storage pool add vms --pgs 32', 'pvc storage volume add vms/disk0 10G', 'pvc storage volume clone vms/base@gold vms/web1-disk0']),
    );

  storage
    .command('status')
    .description('show Ceph health, OSD and placement group counts, raw space, and what pvc does not manage')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc storage status', 'pvc storage status --format json']))
    .action(async (options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const { storageStatus } = await import('../common/client/storage-list.ts');
      const view = await withClient(command, (client) => storageStatus(client));
      await render(view, format, () => storageStatusText(view));
    });

  storage
    .command('util')
    .description('show how full each pool is (stored, raw used, max available)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nFULL is stored / (stored + max available): the figure the fullness limit applies to.\n' + examples(['pvc storage util']))
    .action(async (options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const [{ listPools }, { readStorageSettings }] = await Promise.all([import('../common/client/storage-list.ts'), import('../common/client/storage-settings.ts')]);
      const [pools, settings] = await withClient(command, (client) => Promise.all([listPools(client), readStorageSettings(client)]));
      await render({ pools, maxFullnessPercent: settings.maxFullnessPercent }, format, () => utilTable(pools, settings.maxFullnessPercent));
    });

  storage
    .command('settings')
    .description('show or change storage settings: the fullness limit of writes')
    .option('--max-fullness <percent>', 'refuse a write (volume add, resize, clone, upload) that would fill a pool past this share (1-100)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nThe default limit is 80 %.\n' + examples(['pvc storage settings', 'pvc storage settings --max-fullness 90']))
    .action(async (options: FormatOptions & { maxFullness?: string }, command: Command) => {
      const format = parseFormat(options.format);
      const client = await import('../common/client/storage-settings.ts');
      const percent = options.maxFullness === undefined ? undefined : client.parseFullnessPercent(options.maxFullness);
      const settings = await withClient(command, (c) => (percent === undefined ? client.readStorageSettings(c) : client.setStorageSettings(c, { maxFullnessPercent: percent })));
      await render(settings, format, () => `fullness limit: ${settings.maxFullnessPercent} %`);
    });

  registerPool(storage);
  registerVolume(storage);
  registerOsd(storage);
}
