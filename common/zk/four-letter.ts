// ZooKeeper's four-letter words (srvr, mntr, ...) over plain TCP: node-zookeeper-client has no
// API for them. A server answers, then closes the connection; the answer is everything read
// before the close. Readiness is the `Mode:` line of `srvr`, never `ruok`, which answers
// "imok" before the server serves any request.
import net from 'node:net';
import { PvcError } from '../errors.ts';

export type ServerMode = 'leader' | 'follower' | 'standalone';

/** An answer is a few hundred bytes; anything far larger is not ZooKeeper talking. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export function fourLetterWord(host: string, port: number, cmd: string, timeoutMs: number): Promise<string> {
  if (!/^[a-z]{4}$/.test(cmd)) throw new PvcError('bad-input', `invalid four-letter word ${JSON.stringify(cmd)}`);
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    // One timer for connect + answer: the socket's idle timeout would restart on every chunk.
    const timer = setTimeout(() => {
      finish(new PvcError('timeout', `zookeeper at ${host}:${port} did not answer ${cmd} within ${timeoutMs} ms`));
    }, timeoutMs);
    const socket = net.createConnection({ host, port }, () => socket.end(cmd));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) finish(new PvcError('corrupt', `answer to ${cmd} from ${host}:${port} is over ${MAX_ANSWER_BYTES} bytes`));
    });
    socket.on('error', (error) => {
      finish(new PvcError('unreachable', `cannot ask zookeeper at ${host}:${port} ${cmd}: ${error.message}`, { cause: error }));
    });
    socket.on('close', () => finish(null));
  });
}

/**
 * The role a server reports in its `srvr` answer, or null when it does not serve requests
 * (no quorum yet: "This ZooKeeper instance is not currently serving requests").
 * Only the `Mode:` line is read: the version line of Debian's build is not a clean version
 * (`3.8.0-${mvngit.commit.id}`), so nothing else is parsed strictly.
 */
export function parseServerMode(srvrOutput: string): ServerMode | null {
  const match = /^Mode:\s*(\S+)\s*$/m.exec(srvrOutput);
  const mode = match?.[1];
  if (mode === 'leader' || mode === 'follower' || mode === 'standalone') return mode;
  return null;
}
