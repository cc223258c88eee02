import { MailEventsPublisher, MailReceivedEvent } from '@app/events';
import { SyncMetrics } from './sync.metrics';

/**
 * Publishes a batch of `mail.received` events (one Redis round trip) and records them in the metrics:
 * the count by type and each message's lag from its server receipt. Returns the lag of the newest message
 * that has a receipt time (null if none), for the mailbox's status.
 */
export async function publishReceived(deps: { events: MailEventsPublisher; metrics: SyncMetrics }, batch: MailReceivedEvent[]): Promise<number | null> {
  await deps.events.publishMany(batch);
  deps.metrics.published.inc({ type: 'mail.received' }, batch.length);
  let lag: number | null = null;
  for (const { message } of batch) {
    if (!message.receivedAt) continue;
    lag = Math.max(0, (Date.now() - Date.parse(message.receivedAt)) / 1000);
    deps.metrics.lag.observe(lag);
  }
  return lag;
}
