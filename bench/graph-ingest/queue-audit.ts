import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { GRAPH_NOTIFICATIONS_QUEUE, GraphNotificationJob } from '@app/graph';

export interface QueueAudit {
  jobs: number;
  items: number;
  /** Jobs in any state other than waiting (nothing consumes the queue in this phase: should be 0). */
  otherJobs: number;
}

/** Counts the jobs on `graph-notifications` and the notification items they carry, then empties the queue. */
export async function auditAndDrainNotificationQueue(redisUrl: string, prefix: string): Promise<QueueAudit> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<GraphNotificationJob>(GRAPH_NOTIFICATIONS_QUEUE, { connection: redis, prefix });
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
    let items = 0;
    const page = 1000;
    for (let start = 0; start < counts.waiting; start += page) {
      for (const job of await queue.getWaiting(start, start + page - 1)) items += job.data.items.length;
    }
    const otherJobs = Object.entries(counts).reduce((sum, [state, n]) => (state === 'waiting' ? sum : sum + n), 0);
    await queue.obliterate({ force: true });
    return { jobs: counts.waiting, items, otherJobs };
  } finally {
    await queue.close();
    await redis.quit();
  }
}
