// Free TCP ports on loopback for servers a test or the local cluster starts: the kernel picks
// them (bind to port 0), so two test files running at once never choose the same ones. All
// listeners stay open until every port is known, so one call never returns a port twice.
// A port is free when returned, not reserved: the caller starts its server promptly.
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
/** A sanity limit: no harness here needs more than a few dozen ports. */
const MAX_PORTS = 256;

export async function findFreePorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PORTS) {
    throw new Error(`findFreePorts: count must be an integer from 1 to ${MAX_PORTS}, got ${count}`);
  }
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const server = net.createServer();
      servers.push(server);
      ports.push(await listenOnAnyPort(server));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

function listenOnAnyPort(server: net.Server): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('findFreePorts: listener has no TCP address'));
      else resolve(address.port);
    });
  });
}
