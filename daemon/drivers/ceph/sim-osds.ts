// OSDs of the simulated cluster (sim.ts), with the real adapter's rules: a file backing must be a
// new file of at least MIN_OSD_FILE_BYTES (names.ts), created sparse as the real adapter does; an
// OSD that still holds placement groups is not removed (busy); unknown ids are not-found.
// Placement groups move at once when an OSD goes out (a real cluster takes seconds).
import { closeSync, existsSync, ftruncateSync, openSync } from 'node:fs';
import { checkOsdBacking } from './names.ts';
import { CephError, type OsdBacking, type OsdInfo } from './port.ts';
import type { SimCephState } from './sim-model.ts';

/** Ceph's CRUSH weight is the capacity in TiB. */
const TIB = 1024 ** 4;
/** The simulated capacity of an OSD on a block device, whose size the sim cannot read. */
const SIM_DEVICE_BYTES = 1024 ** 4;

export function simOsdList(state: SimCephState): OsdInfo[] {
  const rawUsed = state.rawUsedBytes();
  const capacity = state.capacityBytes();
  return [...state.osds.values()]
    .sort((a, b) => a.id - b.id)
    .map((o) => {
      const serving = o.up && o.in;
      return {
        id: o.id,
        up: o.up,
        in: o.in,
        weight: o.totalBytes / TIB,
        totalBytes: o.up ? o.totalBytes : 0,
        usedBytes: serving && capacity > 0 ? Math.round((rawUsed * o.totalBytes) / capacity) : 0,
        placementGroups: state.placementGroupsOn(o),
      };
    });
}

export function simOsdAdd(state: SimCephState, backing: OsdBacking): number {
  checkOsdBacking(backing);
  let totalBytes = SIM_DEVICE_BYTES;
  if (backing.type === 'file') {
    if (existsSync(backing.path)) throw new CephError('exists', 'osd', backing.path, `backing file ${backing.path} exists already; pvc only formats a new file`);
    // As the real adapter, the sparse file is created (and left behind on removal).
    const fd = openSync(backing.path, 'wx', 0o600);
    try {
      ftruncateSync(fd, backing.sizeBytes);
    } finally {
      closeSync(fd);
    }
    totalBytes = backing.sizeBytes;
  }
  // Like `ceph osd new`: the lowest free id.
  let id = 0;
  while (state.osds.has(id)) id += 1;
  state.osds.set(id, { id, up: true, in: true, totalBytes });
  return id;
}

export function simOsdRemove(state: SimCephState, id: number, force: boolean): void {
  const osd = state.osds.get(id);
  if (!osd) throw new CephError('not-found', 'osd', `osd.${id}`, `osd.${id} does not exist`);
  if (!force && state.placementGroupsOn(osd) > 0) {
    throw new CephError('busy', 'osd', `osd.${id}`, `osd.${id} still holds data; mark it out and wait until its placement groups have moved`);
  }
  state.osds.delete(id);
}

export function simOsdMark(state: SimCephState, id: number, isIn: boolean): void {
  const osd = state.osds.get(id);
  if (!osd) throw new CephError('not-found', 'osd', `osd.${id}`, `osd.${id} does not exist.`);
  osd.in = isIn;
}
