import { Inject, Injectable } from '@nestjs/common';
import { InjectFlowProducer } from '@nestjs/bullmq';
import { FlowJob, FlowProducer } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@app/config';
import { turnBatcher } from '@app/batching';
import { MAIL_EVENTS_QUEUE, MailEvent, WEBHOOK_FANOUT_QUEUE } from './mail-event.types';
import { subscribesTo, WebhookAudience } from './webhook-audience';

/** The flow producer (Nest provider name) that adds to both doors at once. */
export const MAIL_EVENTS_FLOW = 'mail-events';

/** Completed jobs are kept this long so a replayed publish of the same id is dropped (dedup window). */
const KEEP_COMPLETED_SECONDS = 7 * 24 * 3600;

/** Attempts of a fan-out job: with a backoff capped at a minute, about 24 h of trying (WebhookFanoutWorker). */
export const FANOUT_ATTEMPTS = 24 * 60;

/**
 * A fan-out job is dropped once done: what the dedup window needs of it is only its id, kept as BullMQ's
 * deduplication key (`<prefix>:webhook-fanout:de:<event id>`, a string of ~100 bytes, for the same 7 days
 * as mail-events' completed jobs), not a copy of the event (kept 7 days, the fan-out jobs had doubled
 * mail-events' Redis memory). A re-publish within the window is dropped on this door as `deduplicated`
 * while the key lives; the key is written by the same add, so it is in the same MULTI as both jobs.
 */
function fanoutJobOptions(eventId: string): FlowJob['opts'] {
  return {
    jobId: eventId,
    deduplication: { id: eventId, ttl: KEEP_COMPLETED_SECONDS * 1000 },
    // A fan-out that fails (Postgres away while it reads the endpoints, Redis refusing the adds) is tried
    // again, or the event's deliveries would never be made: the fan-out worker's backoff (1 s doubling to
    // a minute) over this many attempts keeps trying for about a day, as long as a delivery is retried.
    attempts: FANOUT_ATTEMPTS,
    backoff: { type: 'fanout' },
    removeOnComplete: true,
    removeOnFail: { age: 4 * KEEP_COMPLETED_SECONDS },
  };
}

/**
 * Publishes on both doors of the event stream at once: each event becomes a job on `mail-events` (the CRM's
 * queue) and a job on `webhook-fanout` (the webhooks), same name and id, all added in ONE Redis MULTI
 * (FlowProducer.addBulk: each job is a root flow, and BullMQ's Redis backend sends a bulk of flows as one
 * transaction; see redis-queue-backend.js `addFlow`). So an event is on both or on neither, whoever
 * publishes it (the listener directly, or the outbox relay of any process) — or, when the relay read that
 * no enabled endpoint subscribes to its type, on `mail-events` alone (see publishMany). A root flow without children is
 * added by BullMQ's `addStandardJob` script, like Queue.add: an id already present is dropped and reported
 * as `duplicated` on mail-events' event stream, and as `deduplicated` on webhook-fanout's (see fanoutJobOptions).
 *
 * The flow producer is EventsModule's (@nestjs/bullmq, on the shared REDIS connection), and Nest closes it
 * (bounded, see @app/queues) after the event modules' users: the listener's runners and the outbox relay
 * (their modules import EventsModule, which imports the producer's module, so their hooks run first).
 */
@Injectable()
export class MailEventsPublisher {
  private readonly prefix: string;
  /** Single publishes of one event-loop turn (3,000 mailboxes changing state together) share one round trip. */
  private readonly publishOne = turnBatcher<MailEvent, void>({
    key: (event) => event.id,
    run: async (events) => {
      await this.publishMany(events);
      return events.map(() => undefined);
    },
  });

  constructor(
    @InjectFlowProducer(MAIL_EVENTS_FLOW) private readonly flows: FlowProducer,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.prefix = config.queuePrefix;
    // Connection errors are the shared connection's, reported once per outage by RedisModule; without a
    // listener BullMQ would print each reconnect attempt to the console.
    this.flows.on('error', () => undefined);
  }

  /** Adds the event as a job named by its type with its id as job id; a second add of the same id is a no-op. */
  publish(event: MailEvent): Promise<void> {
    return this.publishOne(event);
  }

  /**
   * Several events in one round trip (a burst of new mail); each keeps its own id. Given the webhook
   * audience read when the events were taken (the outbox relay), an event of a type no enabled endpoint
   * subscribes to goes on `mail-events` alone; without it (the listener's own publishes) every event has
   * its fan-out twin, and the fan-out finds its endpoints.
   */
  async publishMany(events: MailEvent[], audience?: WebhookAudience): Promise<void> {
    if (events.length === 0) return;
    await this.flows.addBulk(
      events.flatMap((event) =>
        !audience || subscribesTo(audience, event.type) ? [this.job(MAIL_EVENTS_QUEUE, event), this.job(WEBHOOK_FANOUT_QUEUE, event)] : [this.job(MAIL_EVENTS_QUEUE, event)],
      ),
    );
  }

  private job(queueName: string, event: MailEvent): FlowJob {
    return {
      name: event.type,
      queueName,
      prefix: this.prefix,
      data: event,
      opts: queueName === WEBHOOK_FANOUT_QUEUE ? fanoutJobOptions(event.id) : { jobId: event.id, removeOnComplete: { age: KEEP_COMPLETED_SECONDS }, removeOnFail: { age: 4 * KEEP_COMPLETED_SECONDS } },
    };
  }
}
