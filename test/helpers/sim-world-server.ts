// One simulated hypervisor world shared by several pvcd processes: an HTTP server in the test
// process that runs each call of daemon/drivers/hypervisor/sim-remote.ts against a SimWorld.
// The test keeps the world object, so it can look at where every domain is and inject faults.
import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HypervisorError, type HypervisorDriver } from '../../daemon/drivers/hypervisor/port.ts';
import type { SimCall, SimReply } from '../../daemon/drivers/hypervisor/sim-remote.ts';
import { SimWorld, type SimHypervisor, type SimNodeSpec, type SimWorldOptions } from '../../daemon/drivers/hypervisor/sim.ts';

export interface SimWorldServer {
  world: SimWorld;
  url: string;
  /** unix:PATH of the same server on a unix socket (set when asked for): reachable from any
   *  network namespace, as a node's local hypervisor socket is. */
  unixUrl: string | null;
  node(name: string): SimHypervisor;
  close(): Promise<void>;
}

/** `unixSocket`: also serve on this unix socket path (for pvcd processes in network namespaces). */
export async function startSimWorldServer(nodes: SimNodeSpec[], options: SimWorldOptions = {}, unixSocket?: string): Promise<SimWorldServer> {
  const world = new SimWorld(options);
  for (const node of nodes) world.addNode(node);
  const handle = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      void answer(world, body).then((reply) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(reply));
      });
    });
  };
  const servers = [http.createServer(handle)];
  await new Promise<void>((resolve) => servers[0]!.listen(0, '127.0.0.1', resolve));
  const { port } = servers[0]!.address() as AddressInfo;
  if (unixSocket !== undefined) {
    rmSync(unixSocket, { force: true });
    const onSocket = http.createServer(handle);
    await new Promise<void>((resolve, reject) => {
      onSocket.once('error', reject);
      onSocket.listen(unixSocket, resolve);
    });
    servers.push(onSocket);
  }
  return {
    world,
    url: `http://127.0.0.1:${port}`,
    unixUrl: unixSocket === undefined ? null : `unix:${unixSocket}`,
    node: (name) => world.node(name),
    close: async () => {
      for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function answer(world: SimWorld, body: string): Promise<SimReply> {
  let call: SimCall;
  try {
    call = JSON.parse(body) as SimCall;
  } catch {
    return { ok: false, kind: 'failed', operation: 'list', domain: null, detail: 'request body is not JSON' };
  }
  try {
    const node = world.node(call.node) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const method = node[call.method as keyof HypervisorDriver];
    if (typeof method !== 'function') throw new Error(`no sim method ${call.method}`);
    const value = await method.apply(node, call.args);
    return { ok: true, value: value ?? null };
  } catch (error) {
    if (error instanceof HypervisorError) return { ok: false, kind: error.kind, operation: error.operation, domain: error.domain, detail: error.detail };
    return { ok: false, kind: 'failed', operation: 'list', domain: null, detail: error instanceof Error ? error.message : String(error) };
  }
}
