// A TCP proxy that a test can cut: stands between one pvcd and the ZooKeeper servers, so that
// node alone loses ZooKeeper (its connections closed, new ones refused, until restore()). It also
// carries a namespace's traffic to the servers on loopback (test/helpers/zk-netns-link.ts).
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private cutOff = false;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number, listenHost = '127.0.0.1'): Promise<TcpProxy> {
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
    await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
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
export async function proxyZkHosts(hosts: string, listenHost = '127.0.0.1'): Promise<{ hosts: string; proxies: TcpProxy[] }> {
  const proxies = await Promise.all(
    hosts.split(',').map((entry) => {
      const [host, port] = entry.split(':');
      return TcpProxy.start(host as string, Number(port), listenHost);
    }),
  );
  return { hosts: proxies.map((p) => `${listenHost}:${p.port}`).join(','), proxies };
}
