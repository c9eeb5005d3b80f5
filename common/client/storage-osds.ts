// `pvc storage osd add|remove|out|in`: Ceph only. OSDs are observed, not specified: the primary's
// refresh records them (/storage/osds). Removing an OSD that still holds data is refused: mark it
// out, let Ceph move its placement groups elsewhere, then remove it.
import fs from 'node:fs';
import path from 'node:path';
import type { OsdBacking, OsdInfo } from '../../daemon/drivers/ceph/port.ts';
import { PvcError, errorMessage } from '../errors.ts';
import { formatSize } from '../storage/size.ts';
import { cephStep, type StorageTarget } from './storage-target.ts';

/** A file-backed OSD smaller than this cannot hold bluestore's own metadata. */
export const OSD_FILE_MIN_SIZE_BYTES = 1024 ** 3;

export function parseOsdId(text: string): number {
  const trimmed = text.trim().replace(/^osd\./, '');
  if (!/^\d{1,6}$/.test(trimmed)) throw new PvcError('bad-input', `invalid osd id ${JSON.stringify(text)}: use a whole number such as 3 (or osd.3)`);
  return Number(trimmed);
}

/**
 * What a new OSD keeps its data on: a block device, or (tests, the local cluster) a file of
 * `sizeBytes`. Checked here so that a wrong path is refused before Ceph is asked.
 */
export function osdBacking(devicePath: string, fileSizeBytes?: number): OsdBacking {
  if (!path.isAbsolute(devicePath)) throw new PvcError('bad-input', `invalid osd device ${JSON.stringify(devicePath)}: use an absolute path`);
  if (fileSizeBytes !== undefined) {
    if (fileSizeBytes < OSD_FILE_MIN_SIZE_BYTES) throw new PvcError('bad-input', `invalid osd file size ${formatSize(fileSizeBytes)} for ${devicePath}: use at least ${formatSize(OSD_FILE_MIN_SIZE_BYTES)}`);
    if (fs.existsSync(devicePath)) throw new PvcError('refused', `osd file ${devicePath} exists already; give a new file (it is created, sparse)`);
    if (!fs.existsSync(path.dirname(devicePath))) throw new PvcError('bad-input', `osd file ${devicePath}: folder ${path.dirname(devicePath)} does not exist`);
    return { type: 'file', path: devicePath, sizeBytes: fileSizeBytes };
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(devicePath);
  } catch (error) {
    throw new PvcError('bad-input', `osd device ${devicePath}: ${errorMessage(error)}`);
  }
  if (!stat.isBlockDevice()) throw new PvcError('bad-input', `osd device ${devicePath} is not a block device (for a file-backed osd give --file-size)`);
  return { type: 'device', path: devicePath };
}

export async function addOsd(target: StorageTarget, backing: OsdBacking): Promise<{ id: number }> {
  const id = await cephStep(`cannot add an osd on ${backing.path}`, () => target.ceph.addOsd(backing));
  return { id };
}

async function mustFindOsd(target: StorageTarget, id: number, what: string): Promise<OsdInfo> {
  const osds = await cephStep(what, () => target.ceph.listOsds());
  const osd = osds.find((o) => o.id === id);
  if (!osd) throw new PvcError('not-found', `${what}: ceph has no osd.${id} (it has ${osds.map((o) => `osd.${o.id}`).join(', ') || 'none'})`);
  return osd;
}

export async function removeOsd(target: StorageTarget, id: number, options: { force?: boolean } = {}): Promise<void> {
  const what = `cannot remove osd.${id}`;
  const osd = await mustFindOsd(target, id, what);
  if (osd.in) throw new PvcError('refused', `${what}: it is in; mark it out first (pvc storage osd out ${id}) and wait until it holds no placement groups`);
  if (osd.placementGroups > 0 && !options.force) {
    throw new PvcError('refused', `${what}: it still holds ${osd.placementGroups} placement group(s); wait for Ceph to move them, or give --force to remove it now (data with no other copy is lost)`);
  }
  await cephStep(what, () => target.ceph.removeOsd(id, { force: options.force === true }));
}

export async function setOsdIn(target: StorageTarget, id: number, wanted: boolean): Promise<{ changed: boolean }> {
  const what = `cannot mark osd.${id} ${wanted ? 'in' : 'out'}`;
  const osd = await mustFindOsd(target, id, what);
  if (osd.in === wanted) return { changed: false };
  await cephStep(what, () => (wanted ? target.ceph.markOsdIn(id) : target.ceph.markOsdOut(id)));
  return { changed: true };
}
