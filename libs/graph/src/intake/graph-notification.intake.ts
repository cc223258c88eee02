import { Injectable, Logger } from '@nestjs/common';
import { classifyNotifications } from './classify-notifications';
import { GraphIntakeMetrics, GraphNotificationResult, isKeptResult } from './graph-intake.metrics';
import { GraphNotificationQueue } from './graph-notification.queue';
import { GraphIntakeUnavailableError, MalformedNotificationError } from './intake-errors';
import { claimedItemCount, GraphEndpoint, MAX_NOTIFICATIONS_PER_POST, NotificationCollection, parseNotificationCollection } from './notification-payload';
import { SubscriptionDirectory } from './subscription-directory';
import { errorMessage } from '@app/failures';

export interface IntakeOutcome {
  /** Items enqueued (changes and lifecycle events). */
  enqueued: number;
  tally: Partial<Record<GraphNotificationResult, number>>;
}

/** Subscription ids in a log line: a few, shortened (they come from whoever POSTed). */
function sample(ids: string[]): string {
  const distinct = [...new Set(ids)];
  const shown = distinct.slice(0, 5).map((id) => JSON.stringify(id.slice(0, 64)));
  return distinct.length > shown.length ? `${shown.join(', ')} and ${distinct.length - shown.length} more` : shown.join(', ');
}

/**
 * One notification POST: read it, keep the items of known subscriptions with the right clientState, and
 * store them as ONE job on `graph-notifications`. Returning means the job is in Redis (or there was
 * nothing to keep); anything that prevents that is a GraphIntakeUnavailableError (503: Graph retries).
 */
@Injectable()
export class GraphNotificationIntake {
  private readonly logger = new Logger('GraphNotifications');

  constructor(
    private readonly directory: SubscriptionDirectory,
    private readonly queue: GraphNotificationQueue,
    private readonly metrics: GraphIntakeMetrics,
  ) {}

  async receive(endpoint: GraphEndpoint, body: unknown, receivedAt = new Date()): Promise<IntakeOutcome> {
    const collection = this.parse(body);
    const { received } = collection;
    // Malformed items never reach the lookup: a NUL byte or a made-up id is not a reason for a 503.
    const malformed = collection.rejected.length + collection.unread;
    if (malformed > 0) this.reportMalformed(collection);
    if (received.length === 0) {
      const tally: IntakeOutcome['tally'] = malformed > 0 ? { invalid: malformed } : {};
      this.metrics.count(tally);
      return { enqueued: 0, tally };
    }

    let subscriptions;
    try {
      subscriptions = await this.directory.resolve(received.map((notification) => notification.subscriptionId));
    } catch (error) {
      this.logger.error(`Graph subscriptions could not be looked up: ${errorMessage(error)}`);
      throw new GraphIntakeUnavailableError('Subscriptions could not be looked up; deliver the notifications again later', 'lookup');
    }

    const { items, tally, forgedSubscriptionIds, unknownSubscriptionIds } = classifyNotifications(endpoint, received, subscriptions);
    if (malformed > 0) tally.invalid = (tally.invalid ?? 0) + malformed;
    if (forgedSubscriptionIds.length > 0) {
      this.logger.warn(`Dropped ${forgedSubscriptionIds.length} Graph notification(s) with a missing or wrong clientState (subscriptions ${sample(forgedSubscriptionIds)})`);
    }
    if (unknownSubscriptionIds.length > 0) {
      this.logger.debug(`Dropped ${unknownSubscriptionIds.length} Graph notification(s) for unknown subscriptions ${sample(unknownSubscriptionIds)}`);
    }
    const withoutEvent = (tally.invalid ?? 0) - malformed;
    if (withoutEvent > 0) this.logger.warn(`Dropped ${withoutEvent} Graph lifecycle notification(s) without a known lifecycleEvent`);

    if (items.length > 0) {
      try {
        await this.queue.enqueue({ receivedAt: receivedAt.toISOString(), items });
      } catch (error) {
        // The dropped items were dropped for good; the others are counted when Graph's retry succeeds.
        const dropped = Object.fromEntries(Object.entries(tally).filter(([result]) => !isKeptResult(result as GraphNotificationResult)));
        this.metrics.count({ ...dropped, enqueue_failed: items.length });
        this.logger.error(`${items.length} Graph notification(s) not enqueued, answering 503 so Graph retries: ${errorMessage(error)}`);
        throw new GraphIntakeUnavailableError('Notifications could not be stored; deliver them again later', 'enqueue');
      }
    }
    this.metrics.count(tally);
    return { enqueued: items.length, tally };
  }

  /** One line per POST: a few of the problems (paths and what is wrong, never the values sent). */
  private reportMalformed({ rejected, unread }: NotificationCollection): void {
    const problems = rejected.slice(0, 3).map((item) => item.problem);
    if (rejected.length > problems.length) problems.push(`${rejected.length - problems.length} more`);
    if (unread > 0) problems.push(`${unread} item(s) beyond the ${MAX_NOTIFICATIONS_PER_POST} of one POST not read`);
    this.logger.warn(`Dropped ${rejected.length + unread} malformed Graph notification(s): ${problems.join('; ')}`);
  }

  private parse(body: unknown): NotificationCollection {
    try {
      return parseNotificationCollection(body);
    } catch (error) {
      if (error instanceof MalformedNotificationError) this.metrics.count({ invalid: claimedItemCount(body) });
      throw error;
    }
  }
}
