// One simulated hypervisor world shared by several pvcd processes: an HTTP server in the test
// process that runs each call of daemon/drivers/hypervisor/sim-remote.ts against a SimWorld.
// The test keeps the world object, so it can look at where every domain is and inject faults.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HypervisorError, type HypervisorDriver } from '../../daemon/drivers/hypervisor/port.ts';
import type { SimCall, SimReply } from '../../daemon/drivers/hypervisor/sim-remote.ts';
import { SimWorld, type SimHypervisor, type SimNodeSpec, type SimWorldOptions } from '../../daemon/drivers/hypervisor/sim.ts';

export interface SimWorldServer {
  world: SimWorld;
  url: string;
  node(name: string): SimHypervisor;
  close(): Promise<void>;
}

export async function startSimWorldServer(nodes: SimNodeSpec[], options: SimWorldOptions = {}): Promise<SimWorldServer> {
  const world = new SimWorld(options);
  for (const node of nodes) world.addNode(node);
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      void answer(world, body).then((reply) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(reply));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    world,
    url: `http://127.0.0.1:${port}`,
    node: (name) => world.node(name),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
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
