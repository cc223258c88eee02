import type { Redis } from 'ioredis';
import { withTimeout } from '@app/async';

/** How long a QUIT on a ready connection may take before the connection is simply dropped. */
const QUIT_WITHIN_MS = 2_000;

/**
 * Closes Redis connections whether or not Redis answers: QUIT on a ready connection (graceful, bounded),
 * a plain disconnect otherwise. ioredis queues a QUIT on a connection that is reconnecting behind the
 * commands already in its offline queue (with `maxRetriesPerRequest: null` those wait until Redis is
 * back), which held a listener's shutdown until it was killed: first in the control transport, then
 * about 1 SIGTERM in 10 of the shared connection, whenever a command had been queued during the outage.
 */
export async function closeRedisConnections(clients: readonly (Redis | null | undefined)[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      if (!client || client.status === 'end') return;
      if (client.status !== 'ready') return client.disconnect();
      await withTimeout(client.quit(), QUIT_WITHIN_MS).catch(() => client.disconnect());
    }),
  );
}
