// A loopback TCP proxy that a test can cut: stands between one pvcd and the ZooKeeper servers,
// so that node alone loses ZooKeeper (a node cut off from the network, without a namespace).
// cut() drops every connection and refuses new ones until restore().
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private cutOff = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = net.createServer((client) => {
      if (!proxy || proxy.cutOff) {
        client.destroy();
        return;
      }
      const upstream = net.connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.on('close', () => proxy?.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** One proxy per server of a ZooKeeper connection string; `hosts` is the string to hand a client. */
export async function proxyZkHosts(hosts: string): Promise<{ hosts: string; proxies: TcpProxy[] }> {
  const proxies = await Promise.all(
    hosts.split(',').map((entry) => {
      const [host, port] = entry.split(':');
      return TcpProxy.start(host as string, Number(port));
    }),
  );
  return { hosts: proxies.map((p) => `127.0.0.1:${p.port}`).join(','), proxies };
}
