/**
 * The physical floor of bench:webhooks, run by main.ts in a Node process of its own against the same
 * healthy receivers: what one process does per delivery with nothing of ours in the way.
 *   http:   keep-alive POSTs (undici Agent, as WebhookSender) of one signed payload, `--slots` per receiver.
 *   bullmq: jobs with the delivery's data and options (one queue per receiver, as the endpoint queues),
 *           a Worker per queue with `--slots` concurrency and an empty processor.
 *   stack:  both together, the POST inside the processor: the least work the architecture (a BullMQ job per
 *           delivery on the endpoint's queue, an HTTP POST) asks of one process, without signing, the
 *           delivery log or metrics.
 * Prints one JSON line per mode: operations/s and the process's CPU ms per operation.
 *   node floor.js --urls=URL,URL --per-url=10000 --slots=32 --redis=redis://… --prefix=… [--modes=http,bullmq,stack]
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { Agent, request } from 'undici';
import { sampleMailReceived } from '@app/testing';
import { deliveryFlow } from '@app/webhooks';

function arg(name: string): string {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (!found) throw new Error(`--${name}= is required`);
  return found.slice(name.length + 3);
}
const urls = arg('urls').split(',');
const perUrl = Number(arg('per-url'));
const slots = Number(arg('slots'));
const redisUrl = arg('redis');
const prefix = arg('prefix');
const modes = (process.argv.find((a) => a.startsWith('--modes='))?.slice(8) ?? 'http,bullmq,stack').split(',');

const event = sampleMailReceived({ subject: 'Quarterly numbers' });
const body = JSON.stringify(event);
const timestamp = Math.floor(Date.now() / 1000);
const signature = `v1,${createHmac('sha256', randomBytes(32)).update(`${event.id}.${timestamp}.${body}`).digest('base64')}`;
const agent = new Agent({ keepAliveTimeout: 30_000 });

async function post(url: string): Promise<void> {
  const response = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', 'user-agent': 'mail-listener-webhooks/1', 'webhook-id': event.id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
    body,
  });
  await response.body.dump();
  if (response.statusCode >= 300) throw new Error(`HTTP ${response.statusCode}`);
}

async function measure(mode: string, run: () => Promise<void>, operations: number): Promise<void> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  process.stdout.write(JSON.stringify({ mode, operations, perSecond: Math.round(operations / seconds), cpuMsPerOperation: Number((cpuMs / operations).toFixed(3)) }) + '\n');
}

async function http(): Promise<void> {
  await Promise.all(
    urls.flatMap((url) => {
      let left = perUrl;
      return Array.from({ length: slots }, async () => {
        while (left > 0) {
          left -= 1;
          await post(url);
        }
      });
    }),
  );
}

/** Fills one queue per receiver with `perUrl` delivery jobs (untimed), then times Workers draining them. */
async function queued(mode: string, processor: (url: string) => Promise<void>): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = urls.map((_url, i) => new Queue(`floor-${mode}-${i}`, { connection, prefix }));
  for (const queue of queues) {
    for (let from = 0; from < perUrl; from += 1000) {
      const jobs = Array.from({ length: Math.min(1000, perUrl - from) }, (_, n) => {
        const flow = deliveryFlow('x', { event: { ...event, id: `${event.id}.${from + n}` }, queuedAt: Date.now() }, prefix);
        return { name: flow.name, data: flow.data, opts: flow.opts };
      });
      await queue.addBulk(jobs);
    }
  }
  const workers: Worker[] = [];
  await measure(
    mode,
    () =>
      new Promise<void>((resolve, reject) => {
        let done = 0;
        urls.forEach((url, i) => {
          const worker = new Worker(queues[i].name, () => processor(url), {
            connection: connection.duplicate({ maxRetriesPerRequest: null }),
            prefix,
            concurrency: slots,
            lockDuration: 15_000,
            stalledInterval: 5_000,
          });
          worker.on('completed', () => ++done === perUrl * urls.length && resolve());
          worker.on('failed', (_job, error) => reject(error));
          workers.push(worker);
        });
      }),
    perUrl * urls.length,
  );
  await Promise.all(workers.map((worker) => worker.close()));
  for (const queue of queues) await queue.obliterate({ force: true });
  await Promise.all(queues.map((queue) => queue.close()));
  connection.disconnect();
}

async function main(): Promise<void> {
  for (const mode of modes) {
    if (mode === 'http') await measure('http', http, perUrl * urls.length);
    if (mode === 'bullmq') await queued('bullmq', async () => undefined);
    if (mode === 'stack') await queued('stack', post);
  }
  await agent.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
