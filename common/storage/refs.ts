// Storage objects as people name them on the command line: `pool/volume` and
// `pool/volume@snapshot`. Parsing checks every part against the storage name rule, so a typo is
// reported before anything is read or written.
import { PvcError } from '../errors.ts';
import { assertStorageName } from './names.ts';

export interface VolumeRef {
  pool: string;
  volume: string;
}

export interface SnapshotRef extends VolumeRef {
  snapshot: string;
}

export function volumeRefText(ref: VolumeRef): string {
  return `${ref.pool}/${ref.volume}`;
}

export function snapshotRefText(ref: SnapshotRef): string {
  return `${ref.pool}/${ref.volume}@${ref.snapshot}`;
}

/** `pool/volume`; `defaultPool` fills in a bare `volume` when given. */
export function parseVolumeRef(text: string, defaultPool?: string): VolumeRef {
  if (text.includes('@')) throw new PvcError('bad-input', `invalid volume ${JSON.stringify(text)}: use pool/volume, without @snapshot`);
  const parts = text.split('/');
  if (parts.length === 1 && defaultPool !== undefined) return { pool: assertStorageName('pool', defaultPool), volume: assertStorageName('volume', text) };
  if (parts.length !== 2) throw new PvcError('bad-input', `invalid volume ${JSON.stringify(text)}: use pool/volume`);
  return { pool: assertStorageName('pool', parts[0]), volume: assertStorageName('volume', parts[1]) };
}

/** `pool/volume@snapshot`. */
export function parseSnapshotRef(text: string): SnapshotRef {
  const at = text.indexOf('@');
  if (at < 0) throw new PvcError('bad-input', `invalid snapshot ${JSON.stringify(text)}: use pool/volume@snapshot`);
  const volume = parseVolumeRef(text.slice(0, at));
  return { ...volume, snapshot: assertStorageName('snapshot', text.slice(at + 1)) };
}
