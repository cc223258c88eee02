import { GraphMailboxClient } from '@app/graph';
import { GraphFolderCursors, GraphFolderSync, GraphFolderSyncDependencies } from './graph-folder.sync';
import { GraphSubscriptionRepository } from './graph-subscription.repository';

/**
 * A Graph runner may be stopped (hand-over) between creating its folders and opening them (it refreshes
 * its token first after a refused one): the folder closed then must write nothing when open() comes,
 * since the lease may already be granted. The cursor repository is the seam: a double records the calls.
 */
describe('GraphFolderSync closed before it opened', () => {
  it('open() reads and writes nothing', async () => {
    const calls: string[] = [];
    const cursors: GraphFolderCursors = {
      loadGraph: async () => {
        calls.push('loadGraph');
        return { remoteFolderId: null, deltaLink: null, lastSyncedAt: null, baselineAt: null };
      },
      saveGraph: async () => {
        calls.push('saveGraph');
      },
      clearDeltaLink: async () => {
        calls.push('clearDeltaLink');
      },
    };
    const deps = {
      client: { resolveFolder: async () => ({ id: 'remote-inbox' }) } as unknown as GraphMailboxClient,
      mailbox: { id: '00000000-0000-4000-8000-000000000001', email: 'a@contoso.com', externalId: null },
      cursors,
      subscriptions: { forFolder: async () => [] } as unknown as GraphSubscriptionRepository,
      clock: { now: () => Date.now() },
      lease: { owner: 'listener-a', epoch: 1 },
      push: null,
      subscriptionMinutes: 60,
      safetyDeltaMs: 0,
      pollIntervalMs: 1_000,
      backfillSince: null,
      onFailure: () => calls.push('onFailure'),
    } as unknown as GraphFolderSyncDependencies;
    const folder = new GraphFolderSync({ id: '00000000-0000-4000-8000-000000000002', path: 'INBOX' }, deps);
    await folder.close(false);
    await folder.open();
    expect(calls).toEqual([]);
  });
});
