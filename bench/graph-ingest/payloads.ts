import { randomBytes } from 'node:crypto';
import { BenchSubscription } from './subscriptions';

/** One change notification exactly as Graph sends it for a new message (basic notification). */
export function changeNotification(sub: BenchSubscription, messageId: string): Record<string, unknown> {
  const resource = `Users/${sub.mailboxId}/Messages/${messageId}`;
  return {
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    changeType: 'created',
    resource,
    resourceData: { '@odata.type': '#Microsoft.Graph.Message', '@odata.id': resource, '@odata.etag': 'W/"CQAAABYAAAA"', id: messageId },
    clientState: sub.clientState,
    tenantId: 'a1b2c3d4-0000-4000-8000-00000000bench',
  };
}

/**
 * `count` request bodies of `batch` notifications each, for random subscriptions, serialized up front so
 * the load generator spends its CPU on sending, not on JSON.
 */
export function notificationBodies(subscriptions: BenchSubscription[], batch: number, count: number): Buffer[] {
  return Array.from({ length: count }, () => {
    const value = Array.from({ length: batch }, () => {
      const sub = subscriptions[Math.floor(Math.random() * subscriptions.length)];
      return changeNotification(sub, `AAMkAG${randomBytes(24).toString('base64url')}`);
    });
    return Buffer.from(JSON.stringify({ value }));
  });
}
