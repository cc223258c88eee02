import { createHash } from 'node:crypto';
import { hashClientState, clientStateMatches } from './client-state';
import { classifyNotifications } from './classify-notifications';
import { MalformedNotificationError, withDeadline, IntakeTimeoutError } from './intake-errors';
import { claimedItemCount, parseNotificationCollection, ReceivedNotification } from './notification-payload';
import { KnownSubscription, SubscriptionCache } from './subscription-cache';
import { validationTokenOf } from './validation-handshake';

const SUB: KnownSubscription = { mailboxId: 'm1', folderId: 'f1', clientStateHash: hashClientState('secret-state') };

describe('clientState', () => {
  it('is SHA-256 of the UTF-8 bytes, compared in constant time; missing never matches', () => {
    expect(hashClientState('é')).toEqual(createHash('sha256').update(Buffer.from([0xc3, 0xa9])).digest());
    expect(hashClientState('abc').toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(clientStateMatches('secret-state', SUB.clientStateHash)).toBe(true);
    expect(clientStateMatches('secret-statE', SUB.clientStateHash)).toBe(false);
    expect(clientStateMatches('', SUB.clientStateHash)).toBe(false);
    expect(clientStateMatches(undefined, SUB.clientStateHash)).toBe(false);
    expect(clientStateMatches('secret-state', Buffer.alloc(3))).toBe(false);
  });
});

describe('parseNotificationCollection', () => {
  it('reads the fields the receiver uses and ignores the others', () => {
    const parsed = parseNotificationCollection({
      value: [
        { subscriptionId: 's', clientState: 'c', changeType: 'created', resource: 'Users/u/Messages/m', resourceData: { '@odata.type': '#Microsoft.Graph.Message', id: 'm' }, tenantId: 't' },
        { subscriptionId: 's2', lifecycleEvent: 'missed', clientState: null },
      ],
    });
    expect(parsed).toEqual([
      { subscriptionId: 's', clientState: 'c', changeType: 'created', resourceId: 'm', lifecycleEvent: undefined },
      { subscriptionId: 's2', clientState: undefined, changeType: undefined, resourceId: undefined, lifecycleEvent: 'missed' },
    ]);
    expect(parseNotificationCollection({ value: [] })).toEqual([]);
  });

  it.each([
    [undefined, /^Request body must be a JSON object/],
    [[{ subscriptionId: 's' }], /^Request body must be a JSON object/],
    ['text', /^Request body must be a JSON object/],
    [{}, /^value: must be an array of notifications$/],
    [{ value: { subscriptionId: 's' } }, /^value: must be an array/],
    [{ value: [{ subscriptionId: 's' }, 42] }, /^value\[1\]: must be an object/],
    [{ value: [null] }, /^value\[0\]: must be an object/],
    [{ value: [{}] }, /^value\[0\]\.subscriptionId: must be a non-empty string$/],
    [{ value: [{ subscriptionId: 7 }] }, /^value\[0\]\.subscriptionId: must be a non-empty string$/],
    [{ value: [{ subscriptionId: 's', clientState: 1 }] }, /^value\[0\]\.clientState: must be a string$/],
    [{ value: [{ subscriptionId: 's', resourceData: 'x' }] }, /^value\[0\]\.resourceData: must be an object$/],
    [{ value: [{ subscriptionId: 's', resourceData: { id: 3 } }] }, /^value\[0\]\.resourceData\.id: must be a string$/],
    [{ value: [{ subscriptionId: 's', lifecycleEvent: ['missed'] }] }, /^value\[0\]\.lifecycleEvent: must be a string$/],
  ])('rejects %j with a message naming the problem', (body, message) => {
    expect(() => parseNotificationCollection(body)).toThrow(MalformedNotificationError);
    expect(() => parseNotificationCollection(body)).toThrow(message);
  });

  it('counts what a rejected body claimed to carry', () => {
    expect(claimedItemCount({ value: [1, 2, 3] })).toBe(3);
    expect(claimedItemCount({ value: [] })).toBe(1);
    expect(claimedItemCount('x')).toBe(1);
  });
});

describe('classifyNotifications', () => {
  const subscriptions = new Map<string, KnownSubscription | null>([
    ['known', SUB],
    ['gone', null],
  ]);
  const n = (over: Partial<ReceivedNotification>): ReceivedNotification => ({
    subscriptionId: 'known',
    clientState: 'secret-state',
    changeType: 'created',
    resourceId: 'msg',
    lifecycleEvent: undefined,
    ...over,
  });

  it('keeps good changes, drops unknown and forged ones (subscription first), lifecycle items on either URL', () => {
    const result = classifyNotifications(
      'notifications',
      [
        n({}),
        n({ subscriptionId: 'gone' }),
        n({ subscriptionId: 'never-seen', clientState: undefined }),
        n({ clientState: 'wrong' }),
        n({ clientState: undefined }),
        n({ lifecycleEvent: 'reauthorizationRequired', changeType: undefined, resourceId: undefined }),
        n({ lifecycleEvent: 'somethingNew' }),
        n({ changeType: undefined, resourceId: undefined }),
      ],
      subscriptions,
    );
    expect(result.items).toEqual([
      { subscriptionId: 'known', mailboxId: 'm1', folderId: 'f1', kind: 'change', changeType: 'created', messageId: 'msg' },
      { subscriptionId: 'known', mailboxId: 'm1', folderId: 'f1', kind: 'lifecycle', lifecycleEvent: 'reauthorizationRequired' },
      { subscriptionId: 'known', mailboxId: 'm1', folderId: 'f1', kind: 'change' },
    ]);
    expect(result.tally).toEqual({ accepted: 2, unknown_subscription: 2, forged: 2, lifecycle_reauthorizationRequired: 1, invalid: 1 });
    expect(result.forgedSubscriptionIds).toEqual(['known', 'known']);
    expect(result.unknownSubscriptionIds).toEqual(['gone', 'never-seen']);
    expect(JSON.stringify(result)).not.toContain('secret-state');
  });

  it('on the lifecycle URL an item needs a known lifecycleEvent', () => {
    const result = classifyNotifications('lifecycle', [n({ lifecycleEvent: 'missed' }), n({ lifecycleEvent: 'subscriptionRemoved' }), n({})], subscriptions);
    expect(result.items.map((item) => item.lifecycleEvent)).toEqual(['missed', 'subscriptionRemoved']);
    expect(result.tally).toEqual({ lifecycle_missed: 1, lifecycle_subscriptionRemoved: 1, invalid: 1 });
  });
});

describe('SubscriptionCache', () => {
  let now = 0;
  const cache = (over: Partial<{ ttlMs: number; negativeTtlMs: number; maxEntries: number }> = {}) =>
    new SubscriptionCache({ ttlMs: 60_000, negativeTtlMs: 0, maxEntries: 3, now: () => now, random: () => 0.5, ...over });
  beforeEach(() => (now = 1_000_000));

  it('serves entries for their TTL, then forgets them', () => {
    const c = cache();
    c.set('a', SUB);
    now += 59_999;
    expect(c.get('a')).toBe(SUB);
    now += 1;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('jitters the TTL by ±10 %', () => {
    const low = new SubscriptionCache({ ttlMs: 60_000, negativeTtlMs: 0, maxEntries: 9, now: () => now, random: () => 0 });
    low.set('a', SUB);
    now += 54_000;
    expect(low.get('a')).toBeUndefined();
  });

  it('remembers misses only for the negative TTL (none by default)', () => {
    const c = cache();
    c.set('x', null);
    expect(c.get('x')).toBeUndefined();
    const n1 = cache({ negativeTtlMs: 1_000 });
    n1.set('x', null);
    expect(n1.get('x')).toBeNull();
    now += 1_000;
    expect(n1.get('x')).toBeUndefined();
  });

  it('stays within its bound, evicting the oldest entry', () => {
    const c = cache();
    for (const id of ['a', 'b', 'c', 'd']) c.set(id, SUB);
    expect(c.size).toBe(3);
    expect(c.get('a')).toBeUndefined();
    c.set('b', SUB); // rewritten: now the newest
    c.set('e', SUB);
    expect(c.get('c')).toBeUndefined();
    expect(c.get('b')).toBe(SUB);
  });
});

describe('validation handshake and deadlines', () => {
  it('takes the token as Express decoded it, once', () => {
    expect(validationTokenOf({ validationToken: 'a b+c:d/é' })).toBe('a b+c:d/é');
    expect(validationTokenOf({ validationToken: '' })).toBe('');
    expect(validationTokenOf({})).toBeUndefined();
    expect(() => validationTokenOf({ validationToken: ['a', 'b'] })).toThrow(/validationToken: must appear once/);
  });

  it('withDeadline rejects late work with a typed error', async () => {
    await expect(withDeadline(new Promise(() => undefined), 10, 'Work')).rejects.toThrow(IntakeTimeoutError);
    await expect(withDeadline(Promise.resolve(4), 10, 'Work')).resolves.toBe(4);
  });
});
