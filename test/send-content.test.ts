import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '@app/persistence';
import { OutboxRepository } from '@app/sending';
import { CHUNK_BYTES } from '../libs/sending/src/storage/send-content.repository';
import { createTestDatabase, queryDatabase, TestDatabase } from '@app/testing';

/**
 * A send's stored content read back by the worker (`content()` whole, `contentStream()` in chunks) is the
 * exact bytes stored: every byte value, at and across chunk boundaries and the reader's batch boundary,
 * and at sizes on either side of a chunk. It is read as base64 text (not bytea's hex); node-postgres'
 * binary result format would not do, and the last test shows why.
 */
describe('send content storage (real Postgres)', () => {
  let db: TestDatabase;
  let source: DataSource;
  let outbox: OutboxRepository;
  let mailboxId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    source = await new DataSource(dataSourceOptions(db.url, 2)).initialize();
    await runMigrations(source);
    outbox = new OutboxRepository(source);
    const [provider] = await queryDatabase<{ id: string }>(
      db.url,
      `INSERT INTO providers (name, type, host, port, secure, verify_certificate, load_emails, send_emails, login_format, auth_method)
       VALUES ('p', 'imap', 'imap.test', 993, true, true, false, true, 'email', 'basic') RETURNING id`,
    );
    // SMTP settings: beginAttempt reads the message's head only for an SMTP attempt about to run.
    await queryDatabase(db.url, `UPDATE providers SET smtp_host = 'smtp.test', smtp_port = 587, smtp_security = 'starttls' WHERE id = $1`, [provider.id]);
    [{ id: mailboxId }] = await queryDatabase<{ id: string }>(db.url, `INSERT INTO mailboxes (email, provider_id, login, enabled) VALUES ('a@x.test', $1, 'a', true) RETURNING id`, [provider.id]);
  });

  afterAll(async () => {
    await source.destroy();
    await db.drop();
  });

  /** Random bytes with a run of all 256 byte values straddling every chunk boundary (and at both ends). */
  function content(size: number): Buffer {
    const bytes = randomBytes(size);
    const run = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (let boundary = 0; boundary <= size; boundary += CHUNK_BYTES) {
      const start = Math.max(0, Math.min(size - run.length, boundary - 128));
      if (start >= 0 && size >= run.length) run.copy(bytes, start);
    }
    if (size >= run.length) run.copy(bytes, size - run.length);
    return bytes;
  }

  async function stored(raw: Buffer): Promise<string> {
    const id = randomUUID();
    await outbox.insert({ id, mailboxId, idempotencyKey: null, requestHash: 'h', messageId: `<${id}@x.test>`, envelope: { from: 'a@x.test', to: ['b@x.test'] }, raw });
    return id;
  }

  async function streamed(id: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of outbox.contentStream(id)) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  // 5 chunks and a bit: more than one reader batch (4 chunks per query).
  it.each([1, 255, 256, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 2 * CHUNK_BYTES, 5 * CHUNK_BYTES + 77])('round-trips %i bytes exactly, whole and streamed', async (size) => {
    const raw = content(size);
    const id = await stored(raw);
    const [{ chunks }] = await queryDatabase<{ chunks: number }>(db.url, `SELECT count(*)::int AS chunks FROM mail_send_chunks WHERE send_id = $1`, [id]);
    expect(chunks).toBe(Math.ceil(size / CHUNK_BYTES));
    expect((await outbox.content(id))!.equals(raw)).toBe(true);
    expect((await streamed(id)).equals(raw)).toBe(true);
  });

  /** What a reader's first query and beginAttempt's head read: 4 chunks. */
  const HEAD_BYTES = 4 * CHUNK_BYTES;

  async function collected(stream: NodeJS.ReadableStream): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of stream) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  it.each([1, CHUNK_BYTES + 1, HEAD_BYTES - 1, HEAD_BYTES, HEAD_BYTES + 1, 5 * CHUNK_BYTES + 77, 9 * CHUNK_BYTES])(
    'reads %i bytes exactly as an SMTP attempt does: the first 4 chunks with the send (beginAttempt), the rest streamed after them',
    async (size) => {
      const raw = content(size);
      const id = await stored(raw);
      const begun = (await outbox.beginAttempt(id))!;
      expect(begun.started).toBe(true);
      const head = begun.smtp!.head!;
      expect(head.length).toBe(Math.min(size, HEAD_BYTES));
      const message = outbox.attemptContent(begun.send, head);
      // Up to 1 MiB the head is the message (no read of its own); beyond, a stream goes on after it.
      expect(typeof message === 'function').toBe(size > HEAD_BYTES);
      const bytes = typeof message === 'function' ? await collected(message()) : message;
      expect(bytes.equals(raw)).toBe(true);
    },
  );

  it('an SMTP attempt of a send without content learns it from beginAttempt (before any hand-over); a chunk missing after the head fails the stream', async () => {
    const empty = await stored(Buffer.alloc(0));
    expect((await outbox.beginAttempt(empty))!.smtp).toMatchObject({ head: null });
    const id = await stored(content(6 * CHUNK_BYTES));
    await queryDatabase(db.url, `DELETE FROM mail_send_chunks WHERE send_id = $1 AND seq = 4`, [id]);
    const begun = (await outbox.beginAttempt(id))!;
    const message = outbox.attemptContent(begun.send, begun.smtp!.head!);
    await expect(collected((message as () => NodeJS.ReadableStream)())).rejects.toThrow(/Chunk 4 of send .* is missing/);
  });

  it('a send without content: null whole, an error streamed', async () => {
    expect(await outbox.content(randomUUID())).toBeNull();
    await expect(streamed(randomUUID())).rejects.toThrow(/is missing/);
  });

  it("node-postgres' binary result format mangles a bytea (its parser decodes every field as UTF-8): why the content is read as base64", async () => {
    const raw = content(1024);
    const id = await stored(raw);
    const pool = (source.driver as unknown as { master: { query: (config: object) => Promise<{ rows: { data: unknown }[] }> } }).master;
    const { rows } = await pool.query({ text: `SELECT data FROM mail_send_chunks WHERE send_id = $1`, values: [id], binary: true });
    const data = rows[0].data;
    expect(Buffer.isBuffer(data) && data.equals(raw)).toBe(false);
  });
});
