import type { Redis } from 'ioredis';

/**
 * Closes Nest transport connections whether or not Redis answers: QUIT on a ready connection (graceful),
 * a plain disconnect otherwise. QUIT on a connection that is reconnecting waits in ioredis' offline queue
 * until Redis is back, which held a listener's shutdown until it was killed; on a lost one it rejects.
 */
export async function closeRedisConnections(clients: readonly (Redis | null | undefined)[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      if (!client) return;
      if (client.status !== 'ready') return client.disconnect();
      await client.quit().catch(() => client.disconnect());
    }),
  );
}
