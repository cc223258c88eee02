import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP relay on 127.0.0.1 in front of a server, to fake what networks do to long-lived connections:
 * `blackhole()` makes every connection open so far silently swallow traffic both ways without closing
 * (a NAT that forgot the flow, a half-open TCP connection); connections opened afterwards work again.
 */
export class TcpProxy {
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; dead: boolean }>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy!.relay(client, targetHost, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  /** Connections currently relayed (black-holed ones included). */
  get connections(): number {
    return this.pairs.size;
  }

  blackhole(): number {
    for (const pair of this.pairs) pair.dead = true;
    return this.pairs.size;
  }

  /** Cuts every connection open so far (both sockets destroyed: the client sees the server vanish mid-answer). */
  cut(): number {
    const count = this.pairs.size;
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    return count;
  }

  async stop(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket, host: string, port: number): void {
    const upstream = createConnection({ host, port });
    const pair = { client, upstream, dead: false };
    this.pairs.add(pair);
    client.on('data', (chunk) => pair.dead || upstream.write(chunk));
    upstream.on('data', (chunk) => pair.dead || client.write(chunk));
    const end = () => {
      if (pair.dead) return; // a black hole tells nobody
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}
