/**
 * Taking a large message in at POST /v1/mailboxes/:id/outbox: the API process's memory while it does.
 *
 *   npm run bench:send-intake -- [--attachment-mb=24] [--max-mb=40] [--runs=3] [--kind=json|raw|both] [--node-options='--max-semi-space-size=2']
 *
 * Starts the built API as its own process (so its memory is its own) on a fresh database, a provider
 * that sends and a mailbox, and POSTs a message with one `--attachment-mb` MB attachment (random bytes):
 * as JSON (the attachment base64 in `content`) and as a raw message/rfc822 (the same MIME). The body is
 * written in 64 KB pieces as fast as the API takes it. Prints per run: the answer, seconds, the stored
 * message size, and the API's RSS (VmRSS sampled every 10 ms): before, peak, growth. SEND_MAX_BYTES is
 * `--max-mb` (a 24 MB attachment is ~33 MB as MIME: above the 25 MB default).
 * Needs Postgres (DATABASE_URL), Redis (REDIS_URL), and `npm run build` (the script runs it).
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { appProcessEnv, AppProcess, createTestDatabase, ENTRY_POINTS, freePort, startAppProcess, TEST_API_KEY, testConfig, TestDatabase, waitForHttpOk } from '@app/testing';
import { rssBytes } from '../imap-idle/proc-stats';
import { numberArg, textArg } from '../args';

const MB = 1024 * 1024;
const PIECE = 64 * 1024;

function mimeWith(attachment: Buffer): Buffer {
  const base64 = (attachment.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
  return Buffer.from(
    [
      'To: ben@contoso.com',
      'Subject: bench',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'see attached',
      '--b',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      'Content-Disposition: attachment; filename="data.bin"',
      '',
      base64,
      '--b--',
      '',
    ].join('\r\n'),
  );
}

/** POSTs `body` in 64 KB pieces (waiting for the socket to drain), sampling the API's RSS until the answer. */
function post(url: string, contentType: string, body: Buffer, pid: number): Promise<{ status: number; answer: string; seconds: number; peakRss: number }> {
  return new Promise((resolve, reject) => {
    let peakRss = rssBytes(pid);
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(pid))), 10);
    const started = process.hrtime.bigint();
    const request = httpRequest(url, { method: 'POST', headers: { Authorization: `Bearer ${TEST_API_KEY}`, 'Content-Type': contentType, 'Content-Length': String(body.length) } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        clearInterval(sampler);
        peakRss = Math.max(peakRss, rssBytes(pid));
        resolve({ status: res.statusCode ?? 0, answer: Buffer.concat(parts).toString(), seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRss });
      });
    });
    request.on('error', (error) => {
      clearInterval(sampler);
      reject(error);
    });
    let offset = 0;
    const write = () => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + PIECE);
        offset += piece.length;
        if (!request.write(piece)) return void request.once('drain', write);
      }
      request.end();
    };
    write();
  });
}

async function main(): Promise<void> {
  const attachmentMb = numberArg('attachment-mb', 24);
  const maxMb = numberArg('max-mb', 40);
  const runs = numberArg('runs', 3);
  const kind = textArg('kind', 'both');
  let db: TestDatabase | undefined;
  let api: AppProcess | undefined;
  try {
    db = await createTestDatabase();
    const config = testConfig(db.url, { SEND_MAX_BYTES: String(maxMb * MB) });
    const port = await freePort();
    // The bench runs from dist-bench/: the built API is one level up from the harness's root there.
    // --node-options='…' for the API process (--max-semi-space-size=2 caps V8's young generation, which the
    // JSON parser's many small tokens grow to its ceiling once: see bench:read).
    const nodeOptions = textArg('node-options', '');
    api = startAppProcess(join('..', ENTRY_POINTS.api), {
      ...appProcessEnv(config, await freePort()),
      API_PORT: String(port),
      LOG_LEVEL: 'warn',
      SEND_MAX_BYTES: String(maxMb * MB),
      ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttpOk(`${url}/health/live`, api);
    const pid = api.child.pid!;
    const create = async (path: string, body: object) => {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_API_KEY}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string };
    };
    await create('/v1/providers', { name: 'Sends', type: 'imap', host: 'mail.bench.example', sendEmails: true, domains: ['bench.example'] });
    const mailbox = await create('/v1/mailboxes', { email: 'ana@bench.example', password: 'pw' });
    const outbox = `${url}/v1/mailboxes/${mailbox.id}/outbox`;

    const attachment = randomBytes(Math.round(attachmentMb * MB));
    const json = Buffer.from(JSON.stringify({ to: ['ben@contoso.com'], subject: 'bench', text: 'see attached', attachments: [{ filename: 'data.bin', contentType: 'application/octet-stream', content: attachment.toString('base64') }] }));
    const raw = mimeWith(attachment);
    // Warm up the paths (parser, composer, Postgres connections, JIT) on a small message.
    const small = randomBytes(256 * 1024);
    for (let i = 0; i < 5; i++) {
      await post(outbox, 'application/json', Buffer.from(JSON.stringify({ to: ['ben@contoso.com'], attachments: [{ filename: 's.bin', content: small.toString('base64') }] })), pid);
      await post(outbox, 'message/rfc822', mimeWith(small), pid);
    }
    console.log(
      `API process ${pid}; attachment ${(attachment.length / MB).toFixed(1)} MB; JSON body ${(json.length / MB).toFixed(1)} MB; raw body ${(raw.length / MB).toFixed(1)} MB; SEND_MAX_BYTES ${maxMb} MB`,
    );
    const kinds: [string, string, Buffer][] = [
      ['json', 'application/json', json],
      ['raw', 'message/rfc822', raw],
    ];
    for (const [name, contentType, body] of kinds.filter(([name]) => kind === 'both' || kind === name)) {
      for (let run = 1; run <= runs; run++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const before = rssBytes(pid);
        const result = await post(outbox, contentType, body, pid);
        const stored = result.status === 202 ? await fetch(`${outbox}/${JSON.parse(result.answer).id}`, { headers: { Authorization: `Bearer ${TEST_API_KEY}` } }).then((res) => res.status) : result.status;
        console.log(
          `${name.padEnd(4)} run ${run}: ${result.status} in ${result.seconds.toFixed(2)} s (${(body.length / MB / result.seconds).toFixed(1)} MB/s; status read ${stored}); ` +
            `API RSS ${(before / MB).toFixed(1)} → peak ${(result.peakRss / MB).toFixed(1)} MB: growth ${((result.peakRss - before) / MB).toFixed(1)} MB`,
        );
        if (result.status !== 202) console.log(`  answer: ${result.answer.slice(0, 300)}`);
      }
    }
  } finally {
    await api?.stop();
    await db?.drop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
