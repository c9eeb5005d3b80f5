// Four-letter words: the srvr parser on answers captured from Debian's ZooKeeper 3.8.0, and the
// TCP exchange against small local servers that answer, hang, or are not there.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PvcError } from '../../common/errors.ts';
import { fourLetterWord, parseServerMode } from '../../common/zk/four-letter.ts';
import { findFreePorts } from '../../scripts/lib/ports.ts';

// Captured from this machine's zookeeper 3.8.0 (Debian build: the version is not clean).
const VERSION = 'Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC';
const SRVR_LEADER = `${VERSION}\nLatency min/avg/max: 0/0.0/0\nReceived: 2\nSent: 1\nConnections: 1\nOutstanding: 0\nZxid: 0x100000000\nMode: leader\nNode count: 5\nProposal sizes last/min/max: -1/-1/-1\n`;
const SRVR_FOLLOWER = `${VERSION}\nLatency min/avg/max: 0/0.0/0\nReceived: 2\nSent: 1\nConnections: 1\nOutstanding: 0\nZxid: 0x0\nMode: follower\nNode count: 5\n`;
const SRVR_STANDALONE = `${VERSION}\nLatency min/avg/max: 0/0.0/0\nReceived: 2\nSent: 1\nConnections: 1\nOutstanding: 0\nZxid: 0x0\nMode: standalone\nNode count: 5\n`;
const NOT_SERVING = 'This ZooKeeper instance is not currently serving requests\n';
const NOT_WHITELISTED = 'srvr is not executed because it is not in the whitelist.\n';

describe('parseServerMode', () => {
  it('reads the Mode: line of a leader, a follower and a standalone server', () => {
    expect(parseServerMode(SRVR_LEADER)).toBe('leader');
    expect(parseServerMode(SRVR_FOLLOWER)).toBe('follower');
    expect(parseServerMode(SRVR_STANDALONE)).toBe('standalone');
  });

  it('says null when the server does not serve or does not answer srvr', () => {
    expect(parseServerMode(NOT_SERVING)).toBeNull();
    expect(parseServerMode(NOT_WHITELISTED)).toBeNull();
    expect(parseServerMode('imok')).toBeNull();
    expect(parseServerMode('')).toBeNull();
  });

  it('accepts CRLF and odd spacing but not unknown modes or a Mode: inside another line', () => {
    expect(parseServerMode('Mode:   follower  \r\n')).toBe('follower');
    expect(parseServerMode('Mode: observer\n')).toBeNull();
    expect(parseServerMode('Mode: read-only\n')).toBeNull();
    expect(parseServerMode('Last Mode: leader\n')).toBeNull();
  });
});

describe('fourLetterWord', () => {
  const servers: net.Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  });

  function listen(onConnection: (socket: net.Socket) => void): Promise<number> {
    const server = net.createServer(onConnection);
    servers.push(server);
    return new Promise((resolve) => {
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
  }

  it('sends the word and returns everything answered before the close', async () => {
    const received: string[] = [];
    const port = await listen((socket) => {
      socket.once('data', (data) => {
        received.push(data.toString());
        // Answer in two pieces, as a server may.
        socket.write(SRVR_LEADER.slice(0, 20));
        setImmediate(() => socket.end(SRVR_LEADER.slice(20)));
      });
    });
    const answer = await fourLetterWord('127.0.0.1', port, 'srvr', 10_000);
    expect(received).toEqual(['srvr']);
    expect(answer).toBe(SRVR_LEADER);
    expect(parseServerMode(answer)).toBe('leader');
  });

  it('fails with timeout when the server never answers', async () => {
    const held: net.Socket[] = [];
    const port = await listen((socket) => held.push(socket));
    const error = await fourLetterWord('127.0.0.1', port, 'srvr', 300).catch((e: unknown) => e);
    held.forEach((socket) => socket.destroy());
    expect(error).toBeInstanceOf(PvcError);
    expect((error as PvcError).code).toBe('timeout');
    expect((error as PvcError).message).toContain(`127.0.0.1:${port}`);
  });

  it('fails with unreachable when nothing listens', async () => {
    const [port] = await findFreePorts(1);
    const error = await fourLetterWord('127.0.0.1', port as number, 'srvr', 10_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PvcError);
    expect((error as PvcError).code).toBe('unreachable');
    expect((error as PvcError).message).toContain(`127.0.0.1:${port}`);
  });

  it('refuses anything but four lowercase letters', () => {
    expect(() => fourLetterWord('127.0.0.1', 1, 'srvr\n', 100)).toThrow(/invalid four-letter word/);
    expect(() => fourLetterWord('127.0.0.1', 1, 'stat; rm', 100)).toThrow(PvcError);
  });
});
