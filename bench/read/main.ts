/**
 * Reading messages through the API (GET /v1/mailboxes/:id/messages/:ref …) against a real Dovecot.
 *
 *   npm run bench:read -- [--big-mb=25] [--reads=300] [--node-options='--max-semi-space-size=2']
 *
 * Starts the built API as its own process (so its memory is its own), a password mailbox on Dovecot, and
 * prints:
 *  - a `--big-mb` MB message streamed by /raw and its attachment by /attachments/2: seconds, MB/s, and the
 *    API's RSS growth (VmRSS sampled every 10 ms during the transfer, minus the RSS before it; target < 10 MB);
 *  - parsed reads of a 100 KB message on a warm pooled session: p50/p90/p99 latency (target p50 <= 20 ms),
 *    and the IMAP logins the pool made for them.
 * Needs Postgres (DATABASE_URL), Redis (REDIS_URL), Dovecot, root, and `npm run build` (the script runs it).
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { imapMessageRef } from '@app/events';
import { createTestDatabase, DovecotServer, ENTRY_POINTS, freePort, startAppProcess, testConfig, appProcessEnv, TEST_API_KEY, waitForHttpOk, AppProcess, TestDatabase } from '@app/testing';
import { percentile, rssBytes } from '../imap-idle/proc-stats';
import { numberArg, textArg } from '../args';

const CRLF = '\r\n';
const MB = 1024 * 1024;

function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

function message(to: string, subject: string, attachment: Buffer, text: string): Buffer {
  return Buffer.from(
    [
      'From: "Bench" <bench@fabrikam.com>',
      `To: ${to}`,
      `Subject: ${subject}`,
      'Date: Sat, 21 Nov 2026 10:00:00 +0000',
      `Message-ID: <${randomBytes(6).toString('hex')}@fabrikam.com>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      text,
      '--b',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="data.bin"',
      '',
      base64Lines(attachment),
      '--b--',
      '',
    ].join(CRLF),
  );
}

/** GETs `url`, discarding the body as it comes; samples the API's RSS meanwhile. */
function streamed(url: string, pid: number): Promise<{ bytes: number; seconds: number; peakRss: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    let peakRss = rssBytes(pid);
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(pid))), 10);
    const started = process.hrtime.bigint();
    httpRequest(url, { headers: { Authorization: `Bearer ${TEST_API_KEY}` } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => {
        clearInterval(sampler);
        peakRss = Math.max(peakRss, rssBytes(pid));
        resolve({ bytes, seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRss, complete: res.complete && res.statusCode === 200 });
      });
    })
      .on('error', reject)
      .end();
  });
}

async function getJson(url: string): Promise<{ status: number; ms: number; body: any }> {
  const started = process.hrtime.bigint();
  const res = await fetch(url, { headers: { Authorization: `Bearer ${TEST_API_KEY}` } });
  const body = await res.json();
  return { status: res.status, ms: Number(process.hrtime.bigint() - started) / 1e6, body };
}

async function main(): Promise<void> {
  const bigMb = numberArg('big-mb', 25);
  const reads = numberArg('reads', 300);
  let dovecot: DovecotServer | undefined;
  let db: TestDatabase | undefined;
  let api: AppProcess | undefined;
  try {
    dovecot = await DovecotServer.start();
    db = await createTestDatabase();
    const config = testConfig(db.url);
    const port = await freePort();
    // The bench runs from dist-bench/: the built API is one level up from the harness's root there.
    // --node-options='…' for the API process (e.g. --max-semi-space-size=2: V8's young generation, which
    // any allocation-heavy work grows to its ceiling once, is most of the first transfer's RSS growth).
    const nodeOptions = textArg('node-options', '');
    api = startAppProcess(join('..', ENTRY_POINTS.api), {
      ...appProcessEnv(config, await freePort()),
      API_PORT: String(port),
      LOG_LEVEL: 'warn',
      ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttpOk(`${url}/health/live`, api);
    const pid = api.child.pid!;
    const post = async (path: string, body: object) => {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_API_KEY}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string };
    };
    await post('/v1/providers', { name: 'Dovecot', type: 'imap', host: '127.0.0.1', port: dovecot.port, secure: false, domains: ['bench.test'] });
    const email = 'reader@bench.test';
    await dovecot.addUser(email, `pw-${email}`);
    const mailbox = await post('/v1/mailboxes', { email, password: `pw-${email}`, enabled: false });

    const payload = randomBytes(Math.round((bigMb * MB * 3) / 4 / 1.013));
    const big = message(email, 'big', payload, 'see attached');
    const bigAt = await dovecot.deliver(email, big);
    const small = message(email, 'small', randomBytes(60 * 1024), 'Hello, '.repeat(2000));
    const smallAt = await dovecot.deliver(email, small);
    const bigRef = imapMessageRef(mailbox.id, 'INBOX', bigAt.uidValidity, bigAt.uid);
    const smallRef = imapMessageRef(mailbox.id, 'INBOX', smallAt.uidValidity, smallAt.uid);

    // Warm up: the pool's session, the parser, the streaming paths (raw, attachment) and the JIT, on the
    // small message: what is left in the figures below is what streaming the big one costs.
    for (let i = 0; i < 20; i++) await getJson(`${url}/v1/mailboxes/${mailbox.id}/messages/${smallRef}`);
    for (const path of [`${smallRef}/raw`, `${smallRef}/attachments/2`]) for (let i = 0; i < 10; i++) await streamed(`${url}/v1/mailboxes/${mailbox.id}/messages/${path}`, pid);
    const settle = () => new Promise((r) => setTimeout(r, 500));
    console.log(`API process ${pid}; big message ${(big.length / MB).toFixed(1)} MB (attachment ${(payload.length / MB).toFixed(1)} MB decoded), small ${(small.length / 1024).toFixed(0)} KB`);

    for (const [name, path, expected] of [
      ['raw', `${bigRef}/raw`, big.length],
      ['attachment', `${bigRef}/attachments/2`, payload.length],
      ['raw (again)', `${bigRef}/raw`, big.length],
    ] as const) {
      await settle();
      const before = rssBytes(pid);
      const result = await streamed(`${url}/v1/mailboxes/${mailbox.id}/messages/${path}`, pid);
      if (!result.complete || result.bytes !== expected) throw new Error(`${name}: got ${result.bytes} of ${expected} bytes (complete: ${result.complete})`);
      console.log(
        `${name.padEnd(12)} ${(result.bytes / MB).toFixed(1)} MB in ${result.seconds.toFixed(2)} s (${(result.bytes / MB / result.seconds).toFixed(0)} MB/s); ` +
          `API RSS ${(before / MB).toFixed(1)} → peak ${(result.peakRss / MB).toFixed(1)} MB: growth ${((result.peakRss - before) / MB).toFixed(1)} MB (target < 10 MB)`,
      );
    }

    await settle();
    const latencies: number[] = [];
    for (let i = 0; i < reads; i++) {
      const answer = await getJson(`${url}/v1/mailboxes/${mailbox.id}/messages/${smallRef}`);
      if (answer.status !== 200 || answer.body.attachments.length !== 1) throw new Error(`parsed read: ${answer.status}`);
      latencies.push(answer.ms);
    }
    const sessions = (await dovecot.connectionsOf(email)).length;
    console.log(
      `parsed ${(small.length / 1024).toFixed(0)} KB × ${reads} (warm session, sequential): p50 ${percentile(latencies, 50).toFixed(1)} ms, p90 ${percentile(latencies, 90).toFixed(1)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (target p50 <= 20 ms); Dovecot sessions of the mailbox now: ${sessions}`,
    );
    const parallel = await Promise.all(Array.from({ length: 10 }, () => getJson(`${url}/v1/mailboxes/${mailbox.id}/messages/${smallRef}`)));
    console.log(`10 parallel parsed reads: all ${parallel.every((a) => a.status === 200) ? '200' : 'NOT 200'}, slowest ${Math.max(...parallel.map((a) => a.ms)).toFixed(1)} ms; API RSS now ${(rssBytes(pid) / MB).toFixed(1)} MB`);
  } finally {
    await api?.stop();
    await db?.drop();
    await dovecot?.destroy();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
