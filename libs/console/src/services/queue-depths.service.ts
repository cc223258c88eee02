import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { MAIL_EVENTS_QUEUE, WEBHOOK_FANOUT_QUEUE } from '@app/events';
import { GRAPH_NOTIFICATIONS_QUEUE } from '@app/graph';
import { MAIL_SEND_QUEUE } from '@app/sending';

export const CONSOLE_QUEUES = [MAIL_EVENTS_QUEUE, WEBHOOK_FANOUT_QUEUE, MAIL_SEND_QUEUE, GRAPH_NOTIFICATIONS_QUEUE] as const;

export interface QueueDepth {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** Job counts of the shared BullMQ queues, read from Redis (the same counts Bull Board and queue_jobs show). */
@Injectable()
export class QueueDepthsService {
  private readonly queues: Queue[];

  constructor(
    @InjectQueue(MAIL_EVENTS_QUEUE) mailEvents: Queue,
    @InjectQueue(WEBHOOK_FANOUT_QUEUE) fanout: Queue,
    @InjectQueue(MAIL_SEND_QUEUE) sends: Queue,
    @InjectQueue(GRAPH_NOTIFICATIONS_QUEUE) graph: Queue,
  ) {
    this.queues = [mailEvents, fanout, sends, graph];
  }

  depths(): Promise<QueueDepth[]> {
    return Promise.all(
      this.queues.map(async (queue) => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'waiting-children');
        return {
          name: queue.name,
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts['waiting-children'] ?? 0),
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          failed: counts.failed ?? 0,
        };
      }),
    );
  }
}
