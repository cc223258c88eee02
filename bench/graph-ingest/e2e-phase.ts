import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { Client } from 'pg';
import { MAIL_EVENTS_QUEUE } from '@app/events';
import { receivedMessageOfGraph } from '@app/graph';
import { graphMailReceived } from '@app/sync';
import { freePort } from '@app/testing';
import { cpuSeconds, percentile, rssBytes } from '../imap-idle/proc-stats';
import { startBenchProcess, waitUntilReady } from './api-process';
import { BenchEnvironment } from './environment';
import { BENCH_DAEMON_APP_ID, BENCH_DAEMON_SECRET, BenchGraphFakes } from './graph-fakes';
import { BenchPhase, PhaseReport } from './phase';

export interface EndToEndOptions {
  mailboxes: number;
  /** Measured deliveries (after the warm-up ones). */
  messages: number;
  warmup: number;
  /** What every fake Graph API answer is held back (setResponseDelay): Graph's own response time. */
  graphDelayMs: number;
  /** Pause between two deliveries (each waits for its event first: one message at a time). */
  gapMs: number;
}

const DOMAIN = 'e2e.bench-graph.test';

interface Sample {
  /** Delivery at the fake Graph → the `mail.received` job is in Redis (seen by a QueueEvents reader). */
  totalMs: number;
  /** The fake Graph's own time answering the delta requests on that path (its response delay included). */
  graphMs: number;
  /** The API answering the notification POST (as the fake Graph measured it). */
  notificationMs: number;
}

async function api(env: BenchEnvironment, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${env.api.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${env.appEnv.API_KEYS}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Graph notification → `mail.received`, end to end: the fake Graph (answering every API call after a known
 * delay) calls the API's webhook for real (PUBLIC_BASE_URL), the built listener runs the delta and
 * publishes. N app-only mailboxes are subscribed first; then messages are delivered one at a time, each
 * waiting for its event, round robin over the mailboxes. Reports the latency, the fake's own share, and
 * the overhead above it (the target: p50 ≤ 50 ms above the fake's response time).
 */
export function endToEndPhase(fakes: BenchGraphFakes, options: EndToEndOptions): BenchPhase {
  return {
    name: `end to end: ${options.mailboxes} Graph mailboxes, ${options.messages} messages one at a time, fake Graph answering after ${options.graphDelayMs} ms`,
    async run(env: BenchEnvironment): Promise<PhaseReport> {
      const { entra, graph } = fakes;
      graph.setResponseDelay(0);
      const provider = await api(env, 'POST', '/v1/providers', {
        name: 'Bench Graph (app-only)',
        type: 'microsoft-graph',
        authMethod: 'oauth2',
        graphBaseUrl: graph.baseUrl,
        domains: [DOMAIN],
        oauth: {
          clientId: BENCH_DAEMON_APP_ID,
          clientSecret: BENCH_DAEMON_SECRET,
          tenant: entra.tenantIdFor(DOMAIN),
          authorityHost: entra.authorityHost,
          appOnly: true,
          scopes: ['https://graph.microsoft.com/.default'],
        },
      });
      await api(env, 'POST', `/v1/providers/${provider.id}/oauth/app-token`);
      const mailboxes: { id: string; email: string }[] = [];
      for (let i = 0; i < options.mailboxes; i++) {
        const email = `m${i}@${DOMAIN}`;
        entra.addUser({ username: email });
        graph.addUser(email);
        mailboxes.push({ id: (await api(env, 'POST', '/v1/mailboxes', { email, providerId: provider.id })).id, email });
      }

      const pg = new Client({ connectionString: env.db.url });
      await pg.connect();
      // Only these mailboxes: what an earlier phase seeded (no tokens, no Graph behind them) stays out of the listener.
      await pg.query(`UPDATE mailboxes SET enabled = false, updated_at = now() WHERE provider_id <> $1`, [provider.id]);
      const port = await freePort();
      const listener = startBenchProcess(
        'listener',
        { ...env.appEnv, LISTENER_PORT: String(port), PUBLIC_BASE_URL: env.api.url, GRAPH_SAFETY_DELTA_MINUTES: '0' },
        join(env.appEnv.DATA_DIR!, 'listener.log'),
        env.nodeArgs,
      );
      const redis = new Redis(env.redisUrl, { maxRetriesPerRequest: null });
      const blocking = redis.duplicate();
      const events = new QueueEvents(MAIL_EVENTS_QUEUE, { connection: blocking, prefix: env.queuePrefix });
      const queue = new Queue(MAIL_EVENTS_QUEUE, { connection: redis, prefix: env.queuePrefix });
      try {
        const started = performance.now();
        await waitUntilReady(`http://127.0.0.1:${port}/health/ready`, listener);
        for (;;) {
          const { rows } = await pg.query(`SELECT count(*)::int AS n FROM mailbox_status s JOIN mailboxes m ON m.id = s.mailbox_id WHERE m.provider_id = $1 AND s.connection_state = 'connected'`, [provider.id]);
          if (rows[0].n === options.mailboxes) break;
          if (performance.now() - started > 120_000) throw new Error(`only ${rows[0].n} of ${options.mailboxes} mailboxes connected after 120 s:\n${listener.tail()}`);
          await sleep(100);
        }
        const connectSeconds = (performance.now() - started) / 1000;
        const subscriptions = graph.subscriptions.filter((sub) => sub.email.endsWith(`@${DOMAIN}`));

        const waiting = new Map<string, (at: number) => void>();
        let duplicates = 0;
        events.on('added', ({ jobId }) => waiting.get(jobId)?.(performance.now()));
        events.on('duplicated', () => (duplicates += 1));
        await events.waitUntilReady();
        graph.setResponseDelay(options.graphDelayMs);
        const samples: Sample[] = [];
        const cpu0 = cpuSeconds(listener.pid);
        const measureStart = performance.now();
        let rssPeak = rssBytes(listener.pid);
        for (let i = 0; i < options.warmup + options.messages; i++) {
          const mailbox = mailboxes[i % mailboxes.length];
          await sleep(options.gapMs);
          const wallStart = Date.now();
          const t0 = performance.now();
          const message = graph.deliver(mailbox.email, { subject: `bench ${i}` });
          // The notification leaves on the next turn of the event loop: the waiter is in place before any answer.
          const jobId = graphMailReceived({ id: mailbox.id, email: mailbox.email, externalId: null }, receivedMessageOfGraph({ id: message.immutableId, internetMessageId: null, subject: null, from: null, to: [], cc: [], receivedDateTime: null, parentFolderId: null }, 'INBOX'), new Date()).id;
          const at = await new Promise<number>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no mail.received for delivery ${i} (${mailbox.email}) within 10 s:\n${listener.tail()}`)), 10_000);
            waiting.set(jobId, (when) => {
              clearTimeout(timer);
              resolve(when);
            });
          });
          waiting.delete(jobId);
          if (i < options.warmup) continue;
          const end = wallStart + Math.ceil(at - t0) + 1;
          const deltas = graph.requests.filter((r) => r.email === mailbox.email && r.path.endsWith('/messages/delta') && r.startedAt >= wallStart && r.endedAt > 0 && r.endedAt <= end);
          const posts = graph.notificationDeliveries.filter((d) => d.kind === 'change' && d.at >= wallStart && d.url.startsWith(env.api.url));
          samples.push({
            totalMs: at - t0,
            graphMs: deltas.reduce((sum, r) => sum + (r.endedAt - r.startedAt), 0),
            notificationMs: posts.at(-1)?.ms ?? NaN,
          });
          if (i % 20 === 0) rssPeak = Math.max(rssPeak, rssBytes(listener.pid));
        }
        const seconds = (performance.now() - measureStart) / 1000;
        const cpu = cpuSeconds(listener.pid) - cpu0;
        graph.setResponseDelay(0);
        await sleep(300);
        const jobs = await queue.getJobs(['waiting', 'active', 'completed', 'delayed', 'prioritized', 'failed']);
        const published = jobs.filter((job) => job.name === 'mail.received').length;
        const expected = options.warmup + options.messages;

        const stat = (values: number[], p: number) => Number(percentile(values, p).toFixed(1));
        const total = samples.map((s) => s.totalMs);
        const fake = samples.map((s) => s.graphMs);
        const overhead = samples.map((s) => s.totalMs - s.graphMs);
        const notification = samples.map((s) => s.notificationMs).filter((ms) => Number.isFinite(ms));
        const figures = {
          mailboxes: options.mailboxes,
          subscriptions: subscriptions.length,
          connectSeconds: Number(connectSeconds.toFixed(2)),
          deliveries: samples.length,
          graphDelayMs: options.graphDelayMs,
          latencyP50Ms: stat(total, 50),
          latencyP90Ms: stat(total, 90),
          latencyP99Ms: stat(total, 99),
          latencyMaxMs: Number(Math.max(...total).toFixed(1)),
          fakeGraphP50Ms: stat(fake, 50),
          fakeGraphP99Ms: stat(fake, 99),
          overheadP50Ms: stat(overhead, 50),
          overheadP90Ms: stat(overhead, 90),
          overheadP99Ms: stat(overhead, 99),
          notificationAnswerP50Ms: stat(notification, 50),
          notificationAnswerP99Ms: stat(notification, 99),
          listenerRssMiB: Math.round(rssBytes(listener.pid) / 2 ** 20),
          listenerRssPeakMiB: Math.round(Math.max(rssPeak, rssBytes(listener.pid)) / 2 ** 20),
          listenerCpuPercentOfOneCore: Math.round((cpu / seconds) * 100),
          publishedEvents: published,
          duplicatePublishes: duplicates,
          everyMessageOnce: published === expected,
          overheadTargetMet: stat(overhead, 50) <= 50,
        };
        const code = await listener.stop();
        if (code !== 0) process.stderr.write(`listener exited with ${code}:\n${listener.tail()}\n`);
        return {
          figures,
          lines: [
            `${options.mailboxes} mailboxes subscribed (${subscriptions.length} subscriptions, handshakes through the API) and connected in ${figures.connectSeconds} s`,
            `delivery at Graph → mail.received job: p50 ${figures.latencyP50Ms} ms, p90 ${figures.latencyP90Ms} ms, p99 ${figures.latencyP99Ms} ms, max ${figures.latencyMaxMs} ms (${samples.length} messages, one at a time)`,
            `fake Graph's own response time on that path (delta; every answer held ${options.graphDelayMs} ms): p50 ${figures.fakeGraphP50Ms} ms, p99 ${figures.fakeGraphP99Ms} ms`,
            `overhead above fake Graph: p50 ${figures.overheadP50Ms} ms, p90 ${figures.overheadP90Ms} ms, p99 ${figures.overheadP99Ms} ms (target p50 ≤ 50 ms: ${figures.overheadTargetMet ? 'met' : 'NOT met'})`,
            `  of which the API answering the notification POST: p50 ${figures.notificationAnswerP50Ms} ms, p99 ${figures.notificationAnswerP99Ms} ms`,
            `listener process: RSS ${figures.listenerRssMiB} MiB (peak ${figures.listenerRssPeakMiB} MiB), CPU ${figures.listenerCpuPercentOfOneCore} % of one core while measuring`,
            `events: ${published} mail.received for ${expected} deliveries, ${duplicates} duplicate publishes dropped` + (figures.everyMessageOnce ? ': every message once' : ': MISMATCH'),
          ],
        };
      } finally {
        await listener.stop();
        await events.close().catch(() => undefined);
        await queue.close().catch(() => undefined);
        blocking.disconnect();
        redis.disconnect();
        await pg.end();
      }
    },
  };
}
