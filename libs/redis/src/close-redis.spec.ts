import { createServer } from 'node:net';
import Redis from 'ioredis';
import { closeRedisConnections } from './close-redis';

/** A port nothing listens on: the client keeps reconnecting, as it does while Redis is away. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function reconnectingClient(): Promise<Redis> {
  const client = new Redis(await deadPort(), '127.0.0.1', { maxRetriesPerRequest: null, retryStrategy: () => 50, lazyConnect: false });
  client.on('error', () => undefined);
  await new Promise<void>((resolve) => client.once('reconnecting', () => resolve()));
  return client;
}

const settledWithin = (work: Promise<unknown>, ms: number) =>
  Promise.race([work.then(() => true, () => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);

describe('closeRedisConnections', () => {
  it('closes at once a connection that is reconnecting with a command waiting in its offline queue', async () => {
    const client = await reconnectingClient();
    void client.get('some-key').catch(() => undefined);
    expect(await settledWithin(closeRedisConnections([client]), 1_000)).toBe(true);
    // And it stops trying: no reconnect keeps the process alive after its shutdown.
    let reconnects = 0;
    client.on('reconnecting', () => (reconnects += 1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reconnects).toBe(0);
  });

  it('(why) a plain QUIT on such a connection waits behind the queued command until Redis is back', async () => {
    const client = await reconnectingClient();
    void client.get('some-key').catch(() => undefined);
    expect(await settledWithin(client.quit(), 1_000)).toBe(false);
    client.disconnect();
  });

  it('passes over connections that are missing or already ended', async () => {
    const client = await reconnectingClient();
    client.disconnect();
    await expect(closeRedisConnections([undefined, null, client])).resolves.toBeUndefined();
  });
});
