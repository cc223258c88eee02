/**
 * The database part of a send, alone: what the `mail-send` worker asks Postgres for one SMTP send
 * (beginAttempt with the spec row and the message's head, the rest of a message above 1 MiB streamed, the
 * hand-over mark, recordSent with its event), `--concurrency` sends at once (16, as SEND_CONCURRENCY), no
 * SMTP, no queue. Sends/s, latency per send and the client's CPU per send, on a fresh database.
 *
 *   npm run build && tsc -p bench/tsconfig.json && tsc-alias -p bench/tsconfig.json &&
 *   node dist-bench/bench/send/database-part.js [--sends=480] [--concurrency=16] [--attachment-share=0.1]
 *
 * Messages: random 20 KB, every 10th 1.4 MB (as bench:send's composed messages). Needs Postgres (DATABASE_URL).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '@app/persistence';
import { MailboxSendStatusRepository, mailSentEvent, OutboxRepository } from '@app/sending';
import { createTestDatabase, queryDatabase } from '@app/testing';
import { numberArg } from '../args';

const SENDS = numberArg('sends', 480);
const CONCURRENCY = numberArg('concurrency', 16);
const ATTACHMENT_SHARE = numberArg('attachment-share', 0.1);

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))];

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const source = await new DataSource(dataSourceOptions(db.url, 10)).initialize();
  try {
    await runMigrations(source);
    const [provider] = await queryDatabase<{ id: string }>(
      db.url,
      `INSERT INTO providers (name, type, host, port, secure, verify_certificate, load_emails, send_emails, login_format, auth_method, smtp_host, smtp_port, smtp_security, append_to_sent)
       VALUES ('p', 'imap', 'imap.test', 993, true, true, false, true, 'email', 'basic', 'smtp.test', 587, 'starttls', false) RETURNING id`,
    );
    const [{ id: mailboxId }] = await queryDatabase<{ id: string }>(db.url, `INSERT INTO mailboxes (email, provider_id, login, enabled) VALUES ('a@x.test', $1, 'a', true) RETURNING id`, [provider.id]);
    const outbox = new OutboxRepository(source);
    const status = new MailboxSendStatusRepository();
    const mailbox = { id: mailboxId, email: 'a@x.test', externalId: null };
    const small = randomBytes(20_000);
    const large = randomBytes(1_400_000);
    const every = ATTACHMENT_SHARE > 0 ? Math.round(1 / ATTACHMENT_SHARE) : Infinity;
    const ids: string[] = [];
    for (let i = 0; i < SENDS; i++) {
      const id = randomUUID();
      await outbox.insert({ id, mailboxId, idempotencyKey: null, requestHash: 'h', messageId: `<${id}@x.test>`, envelope: { from: 'a@x.test', to: ['b@x.test'] }, raw: i % every === 0 ? large : small });
      ids.push(id);
    }

    const send = async (id: string) => {
      const begun = (await outbox.beginAttempt(id))!;
      const message = outbox.attemptContent(begun.send, begun.smtp!.head!);
      if (typeof message === 'function') for await (const part of message()) void part;
      await outbox.markInFlight(id);
      const sentAt = new Date();
      const response = '250 2.0.0 Ok: queued';
      const event = mailSentEvent(mailbox, { ...begun.send, sent_at: sentAt, response }, sentAt);
      if (!(await outbox.recordSent(id, { response, sentAt, event, skipSentCopy: true, status: status.clearing(mailboxId) }))) throw new Error(`send ${id} not recorded`);
    };

    const latencies: number[] = [];
    const cpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < ids.length) {
          const id = ids[next++];
          const t0 = process.hrtime.bigint();
          await send(id);
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
      }),
    );
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const cpu = process.cpuUsage(cpuBefore);
    process.stdout.write(
      JSON.stringify(
        {
          sends: SENDS,
          concurrency: CONCURRENCY,
          loadAverage1m: loadavg()[0],
          sendsPerSecond: Math.round((SENDS / wallMs) * 1000),
          msPerSend: { p50: Number(quantile(latencies, 0.5).toFixed(2)), p90: Number(quantile(latencies, 0.9).toFixed(2)), p99: Number(quantile(latencies, 0.99).toFixed(2)) },
          clientCpuMsPerSend: Number(((cpu.user + cpu.system) / 1000 / SENDS).toFixed(2)),
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    await source.destroy();
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
