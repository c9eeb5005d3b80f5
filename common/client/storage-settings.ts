// Storage-wide settings: for now the fullness limit that writes into a pool are held to.
import { PvcError } from '../errors.ts';
import { DEFAULT_MAX_FULLNESS_PERCENT, type StorageSettings } from '../zk/schema.ts';
import { SKIP } from '../zk/store.ts';
import type { StorageReadTarget } from './storage-target.ts';

/** The settings; the defaults when migration 3 has not written them yet. */
export async function readStorageSettings(target: StorageReadTarget): Promise<StorageSettings> {
  const found = await target.store.get(target.layout.storageSettings());
  return found?.value ?? { maxFullnessPercent: DEFAULT_MAX_FULLNESS_PERCENT };
}

export function parseFullnessPercent(text: string): number {
  const value = Number(text.trim().replace(/%$/, ''));
  if (!/^\d+%?$/.test(text.trim()) || !Number.isInteger(value) || value < 1 || value > 100) {
    throw new PvcError('bad-input', `invalid fullness limit ${JSON.stringify(text)}: use a whole percentage from 1 to 100`);
  }
  return value;
}

/** Changes the settings by compare-and-set; returns them as stored. */
export async function setStorageSettings(target: StorageReadTarget, changes: Partial<StorageSettings>): Promise<StorageSettings> {
  const { store, layout } = target;
  if (changes.maxFullnessPercent !== undefined && (!Number.isInteger(changes.maxFullnessPercent) || changes.maxFullnessPercent < 1 || changes.maxFullnessPercent > 100)) {
    throw new PvcError('bad-input', `invalid fullness limit ${changes.maxFullnessPercent}: use a whole percentage from 1 to 100`);
  }
  try {
    await store.update(layout.storageSettings(), (current) => {
      const next = { ...(current ?? { maxFullnessPercent: DEFAULT_MAX_FULLNESS_PERCENT }), ...changes };
      return current && JSON.stringify(next) === JSON.stringify(current) ? SKIP : next;
    });
  } catch (error) {
    if (error instanceof PvcError) throw error;
    throw new PvcError('refused', `cannot change storage settings of cluster ${layout.cluster}: ${(error as Error).message} (has a pvcd of this version migrated it?)`);
  }
  return readStorageSettings(target);
}
