// Adding and removing OSDs on this host, for the real adapter.
//
// - A block device (production): `ceph-volume lvm create --data DEV`, which prepares LVM, writes
//   the OSD and starts it through systemd. Not exercised by the tests: this machine has neither
//   spare block devices nor systemd.
// - A file (tests, the local cluster): the OSD is made by hand as in the notes' recipe. A sparse
//   file of the given size becomes the bluestore block device, `ceph-osd --mkfs` formats it, and
//   `ceph-osd` starts as a daemon of its own (it forks; it is no child of this process). Its data
//   folder, keyring and pid file are wherever the cluster's ceph.conf puts them for osd.N (asked
//   of ceph-conf, so no path is guessed here).
//
// Removal refuses an OSD that still holds data (`ceph osd safe-to-destroy`: mark it out and let
// its placement groups move first), stops its daemon by pid file, then purges it from the maps.
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { CephCli } from './cli-runner.ts';
import { checkOsdBacking, checkOsdId } from './names.ts';
import { parseOsdId, parseOsdMap, parseSafeToDestroy } from './parse.ts';
import { CephError, isCephError, type OsdBacking } from './port.ts';

const POLL_MS = 250;

export async function addOsd(cli: CephCli, backing: OsdBacking): Promise<number> {
  checkOsdBacking(backing);
  return backing.type === 'device' ? addDeviceOsd(cli, backing.path) : addFileOsd(cli, backing.path, backing.sizeBytes);
}

async function addDeviceOsd(cli: CephCli, device: string): Promise<number> {
  const spec = { operation: 'osd' as const, subject: device, timeoutMs: cli.timeouts.osdMs };
  await cli.tool(spec, 'ceph-volume', ['lvm', 'create', '--bluestore', '--data', device]);
  // `lvm list DEV` answers {"<id>": [...]} for the OSD now on the device.
  const listed = JSON.parse(await cli.tool(spec, 'ceph-volume', ['lvm', 'list', '--format', 'json', device])) as Record<string, unknown>;
  const id = Object.keys(listed).map(Number).find((n) => Number.isInteger(n));
  if (id === undefined) throw new CephError('failed', 'osd', device, 'ceph-volume created no OSD on the device');
  return id;
}

async function addFileOsd(cli: CephCli, file: string, sizeBytes: number): Promise<number> {
  if (existsSync(file)) throw new CephError('exists', 'osd', file, `backing file ${file} exists already; pvc only formats a new file`);
  const spec = { operation: 'osd' as const, subject: file, timeoutMs: cli.timeouts.osdMs };
  const uuid = randomUUID();
  const id = parseOsdId(await cli.cephPlain(spec, ['osd', 'new', uuid]));
  const osdSpec = { ...spec, subject: `osd.${id}` };
  let where: OsdPaths | null = null;
  let daemonMayRun = false;
  let fileCreated = false;
  try {
    where = await osdPaths(cli, id);
    mkdirSync(where.data, { recursive: true });
    await cli.cephPlain(osdSpec, ['auth', 'get-or-create', `osd.${id}`, 'mon', 'allow profile osd', 'mgr', 'allow profile osd', 'osd', 'allow *', '-o', where.keyring]);
    createSparseFile(file, sizeBytes);
    fileCreated = true;
    const conf = ['--conf', cli.connection.confPath, '-i', String(id)];
    await cli.tool(osdSpec, 'ceph-osd', [...conf, '--mkfs', '--osd-uuid', uuid, '--osd-objectstore', 'bluestore', '--bluestore-block-path', file, '--bluestore-block-create', 'false']);
    daemonMayRun = true;
    await cli.tool(osdSpec, 'ceph-osd', conf);
    await waitOsd(cli, id, (osd) => osd?.up === true, 'up');
    return id;
  } catch (error) {
    // Undo in reverse: no half-made OSD stays in the cluster map or on disk.
    if (daemonMayRun) await stopOsdDaemon(cli, id).catch(() => undefined);
    await cli.cephPlain({ ...osdSpec, timeoutMs: cli.timeouts.cleanupMs }, ['osd', 'purge', String(id), '--yes-i-really-mean-it']).catch(() => undefined);
    if (where !== null) removeOsdFiles(where, id);
    if (fileCreated) rmSync(file, { force: true });
    throw error;
  }
}

export async function removeOsd(cli: CephCli, id: number, force: boolean): Promise<void> {
  const subject = checkOsdId('osd', id);
  const spec = { operation: 'osd' as const, subject, timeoutMs: cli.timeouts.osdMs };
  const osds = parseOsdMap(await cli.ceph(spec, ['osd', 'dump']));
  if (!osds.some((o) => o.id === id)) throw new CephError('not-found', 'osd', subject, `${subject} does not exist`);
  if (!force && !parseSafeToDestroy(await cli.ceph(spec, ['osd', 'safe-to-destroy', subject]), id)) {
    throw new CephError('busy', 'osd', subject, `${subject} still holds data; mark it out and wait until its placement groups have moved`);
  }
  await stopOsdDaemon(cli, id);
  await waitOsd(cli, id, (osd) => osd === undefined || !osd.up, 'down', ['osd', 'down', String(id)]);
  await cli.ceph(spec, ['osd', 'purge', String(id), '--yes-i-really-mean-it']);
  removeOsdFiles(await osdPaths(cli, id), id);
}

interface OsdPaths {
  data: string;
  keyring: string;
  pidFile: string;
}

/** Where ceph.conf puts osd.N's files ($id and friends expanded by ceph-conf). */
async function osdPaths(cli: CephCli, id: number): Promise<OsdPaths> {
  const spec = { operation: 'osd' as const, subject: `osd.${id}`, timeoutMs: cli.timeouts.queryMs };
  const lookup = async (key: string): Promise<string> => (await cli.tool(spec, 'ceph-conf', ['--conf', cli.connection.confPath, '--name', `osd.${id}`, '--lookup', key])).trim();
  return { data: await lookup('osd_data'), keyring: await lookup('keyring'), pidFile: await lookup('pid_file') };
}

/** SIGTERM to the OSD's daemon (found by its pid file), then SIGKILL when it does not exit in time. */
async function stopOsdDaemon(cli: CephCli, id: number): Promise<void> {
  const { pidFile } = await osdPaths(cli, id);
  const pid = readPid(pidFile);
  if (pid === null || !isOsdProcess(pid, id)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + cli.timeouts.cleanupMs;
  while (isOsdProcess(pid, id) && Date.now() < deadline) await delay(POLL_MS);
  if (isOsdProcess(pid, id)) signal(pid, 'SIGKILL');
}

/**
 * Polls the OSD map until `done` holds for the OSD (undefined: not in the map). `nudge`, when
 * given, is run once first (marking a stopped OSD down spares the monitor's grace period).
 */
async function waitOsd(cli: CephCli, id: number, done: (osd: { up: boolean } | undefined) => boolean, what: string, nudge?: string[]): Promise<void> {
  const spec = { operation: 'osd' as const, subject: `osd.${id}`, timeoutMs: cli.timeouts.queryMs };
  if (nudge) await cli.ceph(spec, nudge).catch((error: unknown) => (isCephError(error, 'not-found') ? undefined : Promise.reject(error)));
  const deadline = Date.now() + cli.timeouts.osdMs;
  for (;;) {
    const osd = parseOsdMap(await cli.ceph(spec, ['osd', 'dump'])).find((o) => o.id === id);
    if (done(osd)) return;
    if (Date.now() >= deadline) throw new CephError('timeout', 'osd', `osd.${id}`, `osd.${id} was not ${what} within ${cli.timeouts.osdMs} ms`);
    await delay(POLL_MS);
  }
}

/** The OSD's folder and keyring, only when the folder is an OSD of this id (its whoami file says so). */
function removeOsdFiles(where: OsdPaths, id: number): void {
  const whoami = readText(path.join(where.data, 'whoami'));
  if (whoami === null || whoami.trim() === String(id)) {
    if (existsSync(where.data) && !lstatSync(where.data).isSymbolicLink()) rmSync(where.data, { recursive: true, force: true });
    rmSync(where.keyring, { force: true });
  }
}

function createSparseFile(file: string, sizeBytes: number): void {
  // 'wx': never truncate a file someone else created in between.
  const fd = openSync(file, 'wx', 0o600);
  try {
    ftruncateSync(fd, sizeBytes);
  } finally {
    closeSync(fd);
  }
}

function isOsdProcess(pid: number, id: number): boolean {
  const status = readText(`/proc/${pid}/status`);
  if (status === null || /^State:\s+Z/m.test(status)) return false;
  const args = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0');
  const idAt = args.findIndex((a) => a === '-i' || a === '--id');
  return path.basename(args[0] ?? '') === 'ceph-osd' && idAt >= 0 && args[idAt + 1] === String(id);
}

function readPid(file: string): number | null {
  const pid = Number(readText(file)?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
