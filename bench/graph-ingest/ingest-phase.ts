import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, percentile, rssBytes } from '../imap-idle/proc-stats';
import { BenchEnvironment } from './environment';
import { runLoad } from './load';
import { notificationBodies } from './payloads';
import { BenchPhase, PhaseReport } from './phase';
import { auditAndDrainNotificationQueue } from './queue-audit';
import { seedGraphSubscriptions } from './subscriptions';

export interface IngestOptions {
  seconds: number;
  warmupSeconds: number;
  /** Notifications per POST. */
  batch: number;
  concurrency: number;
  subscriptions: number;
}

/**
 * How many notifications the API's receiver takes per second: valid batches for random subscriptions
 * POSTed as fast as it answers. Every one of them must end up in a `graph-notifications` job.
 */
export function ingestPhase(options: IngestOptions): BenchPhase {
  return {
    name: `ingest: ${options.subscriptions} subscriptions, ${options.batch} per POST, ${options.concurrency} connections, ${options.seconds} s`,
    async run(env: BenchEnvironment): Promise<PhaseReport> {
      const subscriptions = await seedGraphSubscriptions(env.db.url, options.subscriptions);
      const bodies = notificationBodies(subscriptions, options.batch, 2_000);
      const load = (seconds: number) =>
        runLoad({ origin: env.api.url, path: '/v1/graph/notifications', bodies, concurrency: options.concurrency, durationMs: seconds * 1000 });

      // Warm-up (JIT, connections, the subscription cache's first fill); what it enqueues is audited too.
      const warmup = options.warmupSeconds > 0 ? await load(options.warmupSeconds) : undefined;
      const rssBefore = rssBytes(env.api.pid);
      let rssPeak = rssBefore;
      const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(env.api.pid))), 250);
      const cpu0 = cpuSeconds(env.api.pid);
      const measured = await load(options.seconds);
      const cpu = cpuSeconds(env.api.pid) - cpu0;
      clearInterval(sampler);
      await sleep(200); // let the last jobs land before counting

      const accepted = (warmup?.byStatus.get(202) ?? 0) + (measured.byStatus.get(202) ?? 0);
      const audit = await auditAndDrainNotificationQueue(env.redisUrl, env.queuePrefix);
      const seconds = measured.elapsedMs / 1000;
      const requests = measured.latenciesMs.length;
      const okRequests = measured.byStatus.get(202) ?? 0;
      const latency = (p: number) => Number(percentile(measured.latenciesMs, p).toFixed(2));
      const figures = {
        notificationsPerSecond: Math.round((okRequests * options.batch) / seconds),
        requestsPerSecond: Math.round(requests / seconds),
        p50Ms: latency(50),
        p90Ms: latency(90),
        p99Ms: latency(99),
        maxMs: Number(Math.max(...measured.latenciesMs).toFixed(2)),
        non202: requests - okRequests,
        apiRssMiB: Math.round(rssBytes(env.api.pid) / 2 ** 20),
        apiRssPeakMiB: Math.round(rssPeak / 2 ** 20),
        apiCpuPercentOfOneCore: Math.round((cpu / seconds) * 100),
        acceptedNotifications: accepted * options.batch,
        queuedJobs: audit.jobs,
        queuedNotifications: audit.items,
        allQueued: audit.items === accepted * options.batch && audit.jobs === accepted && audit.otherJobs === 0,
      };
      const statuses = [...measured.byStatus].map(([status, n]) => `${status || 'network error'}: ${n}`).join(', ');
      return {
        figures,
        lines: [
          `accepted ${figures.notificationsPerSecond} notifications/s in ${figures.requestsPerSecond} requests/s (${statuses})`,
          `response time p50 ${figures.p50Ms} ms, p90 ${figures.p90Ms} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms`,
          `API process: RSS ${figures.apiRssMiB} MiB (peak ${figures.apiRssPeakMiB} MiB), CPU ${figures.apiCpuPercentOfOneCore} % of one core`,
          `queue: ${audit.jobs} jobs carrying ${audit.items} notifications for ${accepted} accepted POSTs (${figures.acceptedNotifications} notifications)` +
            (figures.allQueued ? ': every accepted notification was queued' : ': MISMATCH'),
        ],
      };
    },
  };
}
