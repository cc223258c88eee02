import { createConnection, createServer, Server, Socket } from 'node:net';

/** Which way a chunk is relayed: from the client to the server, or back. */
export type RelayDirection = 'toServer' | 'toClient';

/**
 * Sees each chunk relayed one way and returns what to pass on instead (the same chunk to only watch).
 * A promise holds that chunk, and every later one of the same connection and direction, until it settles.
 */
export type ChunkFilter = (chunk: Buffer) => Buffer | Promise<Buffer>;

/**
 * A TCP relay on 127.0.0.1 in front of a server, to fake what networks do to long-lived connections:
 * `blackhole()` makes every connection open so far silently swallow traffic both ways without closing
 * (a NAT that forgot the flow, a half-open TCP connection); connections opened afterwards work again.
 * `filter()` watches, holds back or rewrites the bytes of one direction (to time what a server says
 * against what the client does).
 */
export class TcpProxy {
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; dead: boolean }>();
  private readonly filters: Partial<Record<RelayDirection, ChunkFilter>> = {};

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** `listenPort`: a port chosen beforehand (a URL that had to be configured before the server started); 0 lets the OS pick. */
  static async start(targetPort: number, targetHost = '127.0.0.1', listenPort = 0): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy!.relay(client, targetHost, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', resolve);
    });
    proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  /** Connections currently relayed (black-holed ones included). */
  get connections(): number {
    return this.pairs.size;
  }

  /** Puts every chunk relayed in `direction` from now on through `filter` (undefined: straight through again). */
  filter(direction: RelayDirection, filter: ChunkFilter | undefined): void {
    this.filters[direction] = filter;
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
    client.on('data', this.forward('toServer', upstream, () => pair.dead));
    upstream.on('data', this.forward('toClient', client, () => pair.dead));
    const end = () => {
      if (pair.dead) return; // a black hole tells nobody
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }

  /** Relays one direction of one connection in order, through the direction's filter if one is set. */
  private forward(direction: RelayDirection, target: Socket, dead: () => boolean): (chunk: Buffer) => void {
    let held: Promise<void> | null = null;
    return (chunk) => {
      const filter = this.filters[direction];
      if (!filter && !held) {
        if (!dead()) target.write(chunk);
        return;
      }
      const previous = held ?? Promise.resolve();
      const current: Promise<void> = previous
        .then(async () => {
          const out = filter ? await filter(chunk) : chunk;
          if (!dead() && !target.destroyed && out.length > 0) target.write(out);
        })
        .catch(() => undefined)
        .finally(() => {
          if (held === current) held = null;
        });
      held = current;
    };
  }
}
