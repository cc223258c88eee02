import { GRAPH_LIFECYCLE_EVENTS, GraphLifecycleEvent, GraphNotificationItem } from './graph-notification.job';
import { GraphNotificationResult, lifecycleResult } from './graph-intake.metrics';
import { clientStateMatches } from './client-state';
import { GraphEndpoint, ReceivedNotification } from './notification-payload';
import { KnownSubscription } from './subscription-cache';

export interface Classification {
  /** What goes into the job, in the order Graph sent it. */
  items: GraphNotificationItem[];
  tally: Partial<Record<GraphNotificationResult, number>>;
  /** Subscription ids of dropped items, for the log (never their clientState). */
  forgedSubscriptionIds: string[];
  unknownSubscriptionIds: string[];
}

function isLifecycleEvent(value: string | undefined): value is GraphLifecycleEvent {
  return (GRAPH_LIFECYCLE_EVENTS as readonly (string | undefined)[]).includes(value);
}

/**
 * Decides per item: unknown subscription, forged (clientState missing or wrong), a lifecycle event (on
 * the lifecycle URL, or on the change URL when Graph sends them there because the subscription has no
 * lifecycle URL), or a change. Subscription and clientState are checked first, so a forger's items are
 * counted as forged whatever else they claim.
 */
export function classifyNotifications(
  endpoint: GraphEndpoint,
  received: ReceivedNotification[],
  subscriptions: ReadonlyMap<string, KnownSubscription | null>,
): Classification {
  const result: Classification = { items: [], tally: {}, forgedSubscriptionIds: [], unknownSubscriptionIds: [] };
  const count = (key: GraphNotificationResult) => (result.tally[key] = (result.tally[key] ?? 0) + 1);
  for (const notification of received) {
    const { subscriptionId } = notification;
    const subscription = subscriptions.get(subscriptionId);
    if (!subscription) {
      count('unknown_subscription');
      result.unknownSubscriptionIds.push(subscriptionId);
      continue;
    }
    if (!clientStateMatches(notification.clientState, subscription.clientStateHash)) {
      count('forged');
      result.forgedSubscriptionIds.push(subscriptionId);
      continue;
    }
    const base = { subscriptionId, mailboxId: subscription.mailboxId, folderId: subscription.folderId };
    if (endpoint === 'lifecycle' || notification.lifecycleEvent !== undefined) {
      if (!isLifecycleEvent(notification.lifecycleEvent)) {
        count('invalid');
        continue;
      }
      count(lifecycleResult(notification.lifecycleEvent));
      result.items.push({ ...base, kind: 'lifecycle', lifecycleEvent: notification.lifecycleEvent });
      continue;
    }
    count('accepted');
    const item: GraphNotificationItem = { ...base, kind: 'change' };
    if (notification.changeType !== undefined) item.changeType = notification.changeType;
    if (notification.resourceId !== undefined) item.messageId = notification.resourceId;
    result.items.push(item);
  }
  return result;
}
