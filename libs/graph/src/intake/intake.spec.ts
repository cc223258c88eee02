import { createHash } from 'node:crypto';
import { hashClientState, clientStateMatches } from './client-state';
import { classifyNotifications } from './classify-notifications';
import { MalformedNotificationError } from './intake-errors';
import { claimedItemCount, MAX_NOTIFICATIONS_PER_POST, parseNotificationCollection, ReceivedNotification } from './notification-payload';
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
  const S1 = '7f105c7d-2dc5-4530-97cd-4e7ae6534c07';
  const S2 = 'A1B2C3D4-0000-4000-8000-00000000000F';

  it('reads the fields the receiver uses and ignores the others', () => {
    const parsed = parseNotificationCollection({
      value: [
        { subscriptionId: S1, clientState: 'c', changeType: 'created', resource: 'Users/u/Messages/m', resourceData: { '@odata.type': '#Microsoft.Graph.Message', id: 'm' }, tenantId: 't' },
        { subscriptionId: S2, lifecycleEvent: 'missed', clientState: null },
      ],
    });
    expect(parsed).toEqual({
      received: [
        { subscriptionId: S1, clientState: 'c', changeType: 'created', resourceId: 'm', lifecycleEvent: undefined },
        { subscriptionId: S2, clientState: undefined, changeType: undefined, resourceId: undefined, lifecycleEvent: 'missed' },
      ],
      rejected: [],
      unread: 0,
    });
    expect(parseNotificationCollection({ value: [] })).toEqual({ received: [], rejected: [], unread: 0 });
  });

  it.each([
    [undefined, /^Request body must be a JSON object/],
    [[{ subscriptionId: S1 }], /^Request body must be a JSON object/],
    ['text', /^Request body must be a JSON object/],
    [{}, /^value: must be an array of notifications$/],
    [{ value: { subscriptionId: S1 } }, /^value: must be an array/],
    [{ value: 'x' }, /^value: must be an array/],
  ])('rejects the body %j (not a collection) with a message naming the problem', (body, message) => {
    expect(() => parseNotificationCollection(body)).toThrow(MalformedNotificationError);
    expect(() => parseNotificationCollection(body)).toThrow(message);
  });

  it.each([
    [42, /^value\[1\]: must be an object/],
    [null, /^value\[1\]: must be an object/],
    [[{ subscriptionId: S1 }], /^value\[1\]: must be an object/],
    [{}, /^value\[1\]\.subscriptionId: must be a Graph subscription id \(a GUID\)$/],
    [{ subscriptionId: 7 }, /^value\[1\]\.subscriptionId: must be a Graph subscription id/],
    [{ subscriptionId: 's' }, /^value\[1\]\.subscriptionId: must be a Graph subscription id/],
    [{ subscriptionId: `${S1}\u0000` }, /^value\[1\]\.subscriptionId: must be a Graph subscription id/],
    [{ subscriptionId: ` ${S1}` }, /^value\[1\]\.subscriptionId: must be a Graph subscription id/],
    [{ subscriptionId: S1, clientState: 1 }, /^value\[1\]\.clientState: must be a string$/],
    [{ subscriptionId: S1, clientState: 'a\u0000b' }, /^value\[1\]\.clientState: must not contain NUL characters or lone surrogates$/],
    [{ subscriptionId: S1, changeType: 'created\ud800' }, /^value\[1\]\.changeType: must not contain NUL/],
    [{ subscriptionId: S1, resourceData: 'x' }, /^value\[1\]\.resourceData: must be an object$/],
    [{ subscriptionId: S1, resourceData: { id: 3 } }, /^value\[1\]\.resourceData\.id: must be a string$/],
    [{ subscriptionId: S1, resourceData: { id: '\udc00m' } }, /^value\[1\]\.resourceData\.id: must not contain NUL/],
    [{ subscriptionId: S1, lifecycleEvent: ['missed'] }, /^value\[1\]\.lifecycleEvent: must be a string$/],
  ])('drops the item %j alone, saying where and what, and keeps its neighbours', (item, problem) => {
    const parsed = parseNotificationCollection({ value: [{ subscriptionId: S1 }, item, { subscriptionId: S2 }] });
    expect(parsed.received.map((notification) => notification.subscriptionId)).toEqual([S1, S2]);
    expect(parsed.rejected).toEqual([{ path: 'value[1]', problem: expect.stringMatching(problem) }]);
  });

  it('keeps a surrogate pair (an emoji) and never echoes the values of a dropped item', () => {
    expect(parseNotificationCollection({ value: [{ subscriptionId: S1, changeType: 'created 😀' }] }).rejected).toEqual([]);
    const parsed = parseNotificationCollection({ value: [{ subscriptionId: 'secret-looking', clientState: 'secret-state' }] });
    expect(JSON.stringify(parsed.rejected)).not.toMatch(/secret/);
  });

  it(`reads at most ${MAX_NOTIFICATIONS_PER_POST} items of one POST and counts the rest as unread`, () => {
    const value = Array.from({ length: MAX_NOTIFICATIONS_PER_POST + 250 }, () => ({ subscriptionId: S1 }));
    const parsed = parseNotificationCollection({ value });
    expect(parsed.received).toHaveLength(MAX_NOTIFICATIONS_PER_POST);
    expect(parsed.unread).toBe(250);
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
});
