// Upload checks on a local image file: the format by extension, the refusal of a raw-named file
// that is really qcow2 or vmdk, and of empty or missing files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatByExtension, inspectImageFile, parseImageFormat } from '../../common/storage/image-file.ts';
import { PvcError } from '../../common/errors.ts';
import { thrown } from '../helpers/thrown.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pvc-image-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

async function refusal(promise: Promise<unknown>): Promise<PvcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PvcError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('image files', () => {
  it('takes the format from the extension, raw otherwise', () => {
    expect(['a.qcow2', 'a.QCOW', 'a.vmdk', 'a.vdi', 'a.img', 'a.raw', 'a', 'a.iso'].map(formatByExtension)).toEqual(['qcow2', 'qcow2', 'vmdk', 'vdi', 'raw', 'raw', 'raw', 'raw']);
    expect(parseImageFormat('vdi')).toBe('vdi');
    expect(thrown(() => parseImageFormat('qcow')).message).toBe('invalid image format "qcow": use one of raw, qcow2, vmdk, vdi');
  });

  it('sizes a raw file by its length', async () => {
    const p = file('disk.img', Buffer.alloc(4096, 1));
    expect(await inspectImageFile(p, undefined)).toEqual({ path: p, format: 'raw', fileBytes: 4096, virtualBytes: 4096 });
  });

  it('refuses a raw-named file that starts like qcow2 or vmdk, unless raw was asked for', async () => {
    const qcow = file('q.img', Buffer.concat([Buffer.from('QFI\xfb', 'latin1'), Buffer.alloc(60)]));
    expect((await refusal(inspectImageFile(qcow, undefined))).message).toBe(`image file ${qcow} looks like qcow2, not raw: give --image-format qcow2 (or --image-format raw to store it as it is)`);
    expect((await inspectImageFile(qcow, 'raw')).format).toBe('raw');
    const vmdk = file('v.raw', Buffer.concat([Buffer.from('KDMV', 'latin1'), Buffer.alloc(60)]));
    expect((await refusal(inspectImageFile(vmdk, undefined))).message).toContain('looks like vmdk');
  });

  it('refuses missing, empty and non-image files, naming them', async () => {
    expect((await refusal(inspectImageFile(path.join(dir, 'none.img'), undefined))).message).toContain(`cannot read image file ${dir}/none.img`);
    const empty = file('empty.img', Buffer.alloc(0));
    expect((await refusal(inspectImageFile(empty, undefined))).message).toBe(`image file ${empty} is empty`);
    expect((await refusal(inspectImageFile(dir, undefined))).message).toBe(`image file ${dir} is not a regular file`);
    const notQcow = file('n.qcow2', Buffer.alloc(1024));
    expect((await refusal(inspectImageFile(notQcow, undefined))).message).toContain(`image file ${notQcow} is not a readable qcow2 image`);
  });
});
