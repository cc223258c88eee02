import { GraphNotificationItem } from '@app/graph';
import { forwardedJobId, replicaNotificationsQueue, routeByOwner } from './graph-notification.routes';

const item = (mailboxId: string, folderId = 'f'): GraphNotificationItem => ({ subscriptionId: `s-${mailboxId}`, mailboxId, folderId, kind: 'change' });

describe('routeByOwner', () => {
  it('keeps what this replica holds or nobody holds, and groups the rest by owner in arrival order', () => {
    const items = [item('m1'), item('m2'), item('m3'), item('m2', 'g'), item('m4')];
    const owners = new Map([
      ['m1', 'me'],
      ['m2', 'b'],
      ['m4', 'c'],
    ]);
    const routes = routeByOwner(items, owners, 'me');
    expect(routes.local.map((i) => i.mailboxId)).toEqual(['m1', 'm3']);
    expect([...routes.forward.entries()].map(([owner, forOwner]) => [owner, forOwner.map((i) => `${i.mailboxId}/${i.folderId}`)])).toEqual([
      ['b', ['m2/f', 'm2/g']],
      ['c', ['m4/f']],
    ]);
  });

  it('with no leases at all (one listener running every mailbox) everything stays here', () => {
    const routes = routeByOwner([item('m1'), item('m2')], new Map(), 'me');
    expect(routes.local).toHaveLength(2);
    expect(routes.forward.size).toBe(0);
  });
});

describe('queue names and ids', () => {
  it('are valid for BullMQ: no ":" in the queue name, a custom id that is not an integer', () => {
    expect(replicaNotificationsQueue('listener-7f9c.pod_1')).toBe('graph-notifications.listener-7f9c.pod_1');
    expect(forwardedJobId('42')).toBe('from-42');
    expect(Number.isInteger(Number(forwardedJobId('42')))).toBe(false);
  });
});
