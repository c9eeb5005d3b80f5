// Checks on the names and values the driver passes to Ceph, made before any call so that both
// adapters refuse the same things. Ceph itself accepts almost any pool name ('a/b' included) and
// images of 0 bytes; pvc's names become CLI arguments and "pool/image@snap" specs, so a name
// that could read as an option (a leading '-') or split a spec ('/', '@', ':') never reaches it.
import path from 'node:path';
import { CephError, type CephOperation, type OsdBacking, type PoolSettings, type SnapshotRef } from './port.ts';

const CEPH_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/;
const CEPH_NAME_RULE = 'use 1-128 letters, digits, ".", "_", "+" and "-", not starting with "." or "-"';
const CLIENT_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

export function checkName(operation: CephOperation, kind: 'pool' | 'volume' | 'snapshot', value: string): void {
  if (!CEPH_NAME.test(value)) throw new CephError('invalid', operation, value, `invalid ${kind} name ${JSON.stringify(value)}: ${CEPH_NAME_RULE}`);
}

export function checkVolume(operation: CephOperation, pool: string, image: string): string {
  checkName(operation, 'pool', pool);
  checkName(operation, 'volume', image);
  return `${pool}/${image}`;
}

export function checkSnapshot(operation: CephOperation, ref: SnapshotRef): string {
  checkVolume(operation, ref.pool, ref.image);
  checkName(operation, 'snapshot', ref.snapshot);
  return snapshotSpec(ref);
}

export function snapshotSpec(ref: SnapshotRef): string {
  return `${ref.pool}/${ref.image}@${ref.snapshot}`;
}

export function checkSizeBytes(operation: CephOperation, subject: string, sizeBytes: number): void {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
    throw new CephError('invalid', operation, subject, `size must be a positive whole number of bytes, got ${sizeBytes}`);
  }
}

export function checkClientId(client: string): void {
  if (!CLIENT_ID.test(client)) throw new CephError('invalid', 'auth', client, `invalid client id ${JSON.stringify(client)}: use the id without "client.", 1-64 letters, digits, ".", "_" and "-"`);
}

export function checkOsdId(operation: CephOperation, id: number): string {
  if (!Number.isSafeInteger(id) || id < 0) throw new CephError('invalid', operation, `osd.${id}`, `invalid OSD id ${id}`);
  return `osd.${id}`;
}

/** An entity address as Ceph prints it: IP:PORT/NONCE (IPv6 in brackets). */
const CLIENT_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d{1,5}\/\d+$/;

export function checkAddress(address: string): void {
  if (!CLIENT_ADDRESS.test(address)) throw new CephError('invalid', 'blocklist', address, `invalid client address ${JSON.stringify(address)}: expected IP:PORT/NONCE, as rbd lock ls and rbd status show it`);
}

/** Ceph's own limits (mon_max_pool_pg_num, osd_pool size), checked first so both adapters agree. */
const MAX_PG_NUM = 65_536;
const MAX_POOL_SIZE = 10;

export function checkPoolSettings(name: string, settings: PoolSettings): void {
  const { pgNum, size, minSize } = settings;
  const within = (v: number, max: number): boolean => Number.isSafeInteger(v) && v >= 1 && v <= max;
  if (!within(pgNum, MAX_PG_NUM) || !within(size, MAX_POOL_SIZE) || !within(minSize, size)) {
    throw new CephError('invalid', 'pool', name, `invalid pool settings pg_num=${pgNum} size=${size} min_size=${minSize}: pg_num 1-${MAX_PG_NUM}, size 1-${MAX_POOL_SIZE}, min_size 1-size`);
  }
}

/** bluestore needs room for its metadata; smaller files fail in mkfs with an unhelpful message. */
export const MIN_OSD_FILE_BYTES = 1024 ** 3;

export function checkOsdBacking(backing: OsdBacking): void {
  if (!path.isAbsolute(backing.path)) throw new CephError('invalid', 'osd', backing.path, `${backing.type} path must be absolute, got ${JSON.stringify(backing.path)}`);
  if (backing.type === 'file' && (!Number.isSafeInteger(backing.sizeBytes) || backing.sizeBytes < MIN_OSD_FILE_BYTES)) {
    throw new CephError('invalid', 'osd', backing.path, `backing file size must be at least ${MIN_OSD_FILE_BYTES} bytes, got ${backing.sizeBytes}`);
  }
}
