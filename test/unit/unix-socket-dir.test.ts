import { mkdirSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_UNIX_SOCKET_PATH_BYTES, SOCKET_ALIAS_ROOT, linkSocketDir, socketDirFor, unlinkSocketDir } from '../../common/unix-socket-dir.ts';

const root = mkdtempSync(path.join(tmpdir(), 'pvc-sockdir-'));
const deep = path.join(root, 'a-folder-name-long-enough'.repeat(4), 'state');
mkdirSync(deep, { recursive: true });
afterAll(() => rmSync(root, { recursive: true, force: true }));

function listen(socket: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(socket, () => resolve(server));
  });
}

describe('unix socket folders', () => {
  it('uses a folder as it is while its longest socket path fits', () => {
    expect(socketDirFor(root, 'x.sock')).toBe(root);
  });

  it('names a short, stable alias for a folder too deep for its sockets', () => {
    const alias = socketDirFor(deep, 'zserv.api');
    expect(alias.startsWith(`${SOCKET_ALIAS_ROOT}/`)).toBe(true);
    expect(Buffer.byteLength(path.join(alias, 'zserv.api'))).toBeLessThanOrEqual(MAX_UNIX_SOCKET_PATH_BYTES);
    expect(socketDirFor(deep, 'zserv.api')).toBe(alias);
    expect(socketDirFor(`${deep}-other`, 'zserv.api')).not.toBe(alias);
  });

  it('binds and connects through the alias; the socket file is in the deep folder; unlink removes the alias', async () => {
    const alias = linkSocketDir(deep, 'test.sock');
    expect(readlinkSync(alias)).toBe(deep);
    const server = await listen(path.join(alias, 'test.sock'));
    try {
      await new Promise<void>((resolve, reject) => {
        const client = net.connect(path.join(alias, 'test.sock'), () => { client.end(); resolve(); });
        client.once('error', reject);
      });
      expect(() => readlinkSync(path.join(deep, 'test.sock'))).toThrow(/EINVAL/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    unlinkSocketDir(deep, 'test.sock');
    expect(() => readlinkSync(alias)).toThrow(/ENOENT/);
  });

});
