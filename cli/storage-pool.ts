// pvc storage pool: add, remove, list, set.
import type { Command } from 'commander';
import { POOL_PG_NUM_MAX, POOL_SIZE_MAX, assertStorageName } from '../common/storage/names.ts';
import { withClient } from './context.ts';
import { DEFAULT_FORMAT, FORMAT_HELP, examples, parseFormat, render } from './output.ts';
import { confirmOrRefuse, type FormatOptions } from './storage-args.ts';
import { withStorage } from './storage-context.ts';
import { poolListTable } from './storage-tables.ts';
import { parseCount } from './vm-args.ts';

interface PoolCliOptions extends FormatOptions {
  pgs?: string;
  size?: string;
  minSize?: string;
}

function poolSettings(options: PoolCliOptions): { pgNum?: number; size?: number; minSize?: number } {
  return {
    ...(options.pgs === undefined ? {} : { pgNum: parseCount('--pgs', options.pgs, 1, POOL_PG_NUM_MAX) }),
    ...(options.size === undefined ? {} : { size: parseCount('--size', options.size, 1, POOL_SIZE_MAX) }),
    ...(options.minSize === undefined ? {} : { minSize: parseCount('--min-size', options.minSize, 1, POOL_SIZE_MAX) }),
  };
}

function settingsOptions(command: Command): Command {
  return command
    .option('--pgs <count>', `placement groups (1-${POOL_PG_NUM_MAX})`)
    .option('--size <copies>', `replicas of each object (1-${POOL_SIZE_MAX})`)
    .option('--min-size <copies>', 'replicas that must be up for I/O (at most --size)');
}

export function registerPool(storage: Command): void {
  const pool = storage.command('pool').description('manage Ceph pools').addHelpText('after', examples(['pvc storage pool add vms', 'pvc storage pool list']));

  settingsOptions(pool.command('add').description('create a replicated RBD pool').argument('<pool>', 'pool name'))
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText(
      'after',
      '\nDefaults: 32 placement groups; size 3 (or the number of OSDs up, when fewer) and min_size 2\n(1 when size is below 3), so that a pool on a small cluster still takes I/O.\n' +
        examples(['pvc storage pool add vms', 'pvc storage pool add vms --pgs 64 --size 3 --min-size 2']),
    )
    .action(async (name: string, options: PoolCliOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertStorageName('pool', name);
      const settings = poolSettings(options);
      const { addPool } = await import('../common/client/storage-pools.ts');
      const spec = await withStorage(command, (target) => addPool(target, name, settings));
      await render(spec, format, () => `added pool ${spec.name} (${spec.pgNum} pgs, size ${spec.size}, min_size ${spec.minSize})`);
    });

  pool
    .command('remove')
    .description('remove a pool; one that holds volumes only with --force')
    .argument('<pool>', 'pool name')
    .option('--force', 'remove the pool with every volume in it (never while a vm uses one)')
    .option('--yes', 'do not ask for confirmation (needed when stdin is not a terminal)')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', '\nRefused while a vm spec names one of its volumes as a disk.\n' + examples(['pvc storage pool remove scratch --yes', 'pvc storage pool remove scratch --force --yes']))
    .action(async (name: string, options: FormatOptions & { force?: boolean; yes?: boolean }, command: Command) => {
      const format = parseFormat(options.format);
      assertStorageName('pool', name);
      await confirmOrRefuse(`remove pool ${name}${options.force ? ' and every volume in it' : ''}?`, options.yes, `remove pool ${name}`);
      const { removePool } = await import('../common/client/storage-pools.ts');
      const result = await withStorage(command, (target) => removePool(target, name, { force: options.force === true }));
      await render(result, format, () => `removed pool ${name}${result.volumesRemoved.length ? ` with ${result.volumesRemoved.length} volume(s)` : ''}`);
    });

  pool
    .command('list')
    .description('list the pools pvc manages, with their settings and fullness')
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc storage pool list', 'pvc storage pool list --format json']))
    .action(async (options: FormatOptions, command: Command) => {
      const format = parseFormat(options.format);
      const { listPools } = await import('../common/client/storage-list.ts');
      const pools = await withClient(command, (client) => listPools(client));
      await render(pools, format, () => poolListTable(pools));
    });

  settingsOptions(pool.command('set').description("change a pool's placement groups or replication").argument('<pool>', 'pool name'))
    .option('--format <format>', FORMAT_HELP, DEFAULT_FORMAT)
    .addHelpText('after', examples(['pvc storage pool set vms --pgs 64', 'pvc storage pool set vms --size 3 --min-size 2']))
    .action(async (name: string, options: PoolCliOptions, command: Command) => {
      const format = parseFormat(options.format);
      assertStorageName('pool', name);
      const settings = poolSettings(options);
      const { setPool } = await import('../common/client/storage-pools.ts');
      const spec = await withStorage(command, (target) => setPool(target, name, settings));
      await render(spec, format, () => `pool ${spec.name}: ${spec.pgNum} pgs, size ${spec.size}, min_size ${spec.minSize}`);
    });
}
