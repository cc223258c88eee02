import { Readable, Writable } from 'node:stream';
import { SqlRunner } from '@app/events';

/**
 * Bytes per stored chunk. Small enough that neither side holds much (the API one chunk being filled per
 * stream, the worker one batch being read, as base64 text a third larger), large enough that
 * a 25 MB message is ~100 rows, not thousands.
 */
export const CHUNK_BYTES = 256 * 1024;

/** Chunks a reader fetches per query. */
const READ_BATCH = 4;

/**
 * The chunk's bytes as base64 text. node-postgres reads a bytea as hex text (twice the bytes, decoded with
 * `Buffer.from(hex)`); base64 is a third of the bytes fewer on the wire and in the string it arrives as.
 * Its binary result format (`binary: true`) is no way round: pg 8.23's protocol parser decodes every field
 * as UTF-8 text, which mangles a bytea's bytes (send-content.test.ts shows both). Node's base64 decoder
 * skips the newlines Postgres puts every 76 characters.
 */
const DATA_AS_BASE64 = `encode(data, 'base64') AS data`;

function decoded(data: string): Buffer {
  return Buffer.from(data, 'base64');
}

/** Part 0 is the message that is sent; parts 1…n are an intake's staged attachments (see the migration). */
export const MESSAGE_PART = 0;

/**
 * One query at a time on `sql` (a transaction's single connection): an intake writes the message's chunks
 * while MailComposer reads staged attachments back through the same transaction, and pg's client must not
 * be handed a query while one runs (deprecated in pg 8, removed in 9).
 */
export function oneQueryAtATime(sql: SqlRunner): SqlRunner {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    query(text: string, parameters?: unknown[]) {
      const run = tail.then(() => sql.query(text, parameters));
      tail = run.catch(() => undefined);
      return run;
    },
  };
}

/**
 * All SQL of `mail_send_chunks`: a send's content as ordered chunks, written by a stream and read by one.
 * Every method takes the SqlRunner to use: the API writes and reads back inside its intake transaction
 * (uncommitted chunks are visible to it alone), the worker reads through the DataSource.
 */
export class SendContentRepository {
  /** A Writable storing what is written to it as chunks `0, 1, …` of the part, each insert awaited (backpressure). */
  static writer(sql: SqlRunner, sendId: string, part: number): ChunkWriter {
    return new ChunkWriter(sql, sendId, part);
  }

  /**
   * A Readable of the part's chunks in order; fails when the part has none or a chunk is missing. `head`:
   * its first READ_BATCH chunks, read already (headColumn): pushed first, then the rest is read.
   */
  static reader(sql: SqlRunner, sendId: string, part: number, head?: Buffer): Readable {
    let next = 0;
    let pending = head;
    return new Readable({
      highWaterMark: CHUNK_BYTES,
      read(this: Readable) {
        if (pending) {
          this.push(pending);
          pending = undefined;
          next = READ_BATCH;
          return;
        }
        sql
          .query(`SELECT seq, ${DATA_AS_BASE64} FROM mail_send_chunks WHERE send_id = $1 AND part = $2 AND seq >= $3 ORDER BY seq LIMIT $4`, [sendId, part, next, READ_BATCH])
          .then((rows: { seq: number; data: string }[]) => {
            if (rows.length === 0) {
              if (next === 0) this.destroy(new Error(`The content of send ${sendId} (part ${part}) is missing`));
              else this.push(null);
              return;
            }
            for (const row of rows) {
              if (row.seq !== next) return this.destroy(new Error(`Chunk ${next} of send ${sendId} (part ${part}) is missing`));
              next += 1;
              this.push(decoded(row.data));
            }
            if (rows.length < READ_BATCH) this.push(null);
          })
          .catch((error: Error) => this.destroy(error));
      },
    });
  }

  /** The part whole (the worker's `content()`: callers that need a Buffer). Null when it has no chunks. */
  static async whole(sql: SqlRunner, sendId: string, part: number): Promise<Buffer | null> {
    const rows = (await sql.query(`SELECT ${DATA_AS_BASE64} FROM mail_send_chunks WHERE send_id = $1 AND part = $2 ORDER BY seq`, [sendId, part])) as { data: string }[];
    return rows.length === 0 ? null : rows.length === 1 ? decoded(rows[0].data) : Buffer.concat(rows.map((row) => decoded(row.data)));
  }

  /**
   * The part's first READ_BATCH chunks (what a reader's first query reads) as one base64 text column of an
   * enclosing statement (`sendIdSql`: its expression for the send id; NULL when the part has no chunks):
   * the send worker reads them in the statement that starts its attempt, and `reader(…, head)` goes on
   * from there. Joined in Postgres before encoding (a chunk's base64 would end in padding); decode it with
   * `headFromColumn`.
   */
  static headColumn(sendIdSql: string, part: number): string {
    return `(SELECT encode(string_agg(c.data, ''::bytea ORDER BY c.seq), 'base64') FROM mail_send_chunks c
              WHERE c.send_id = ${sendIdSql} AND c.part = ${Number(part)} AND c.seq < ${READ_BATCH})`;
  }

  static headFromColumn(data: string | null): Buffer | null {
    return data === null ? null : decoded(data);
  }

  /** Drops an intake's staged parts (every part but the message) before its transaction commits. */
  static async dropStaged(sql: SqlRunner, sendId: string): Promise<void> {
    await sql.query(`DELETE FROM mail_send_chunks WHERE send_id = $1 AND part <> $2`, [sendId, MESSAGE_PART]);
  }
}

/** See SendContentRepository.writer. `bytes` counts what was written; `chunks` what was stored. */
export class ChunkWriter extends Writable {
  bytes = 0;
  chunks = 0;
  private pending = Buffer.allocUnsafe(CHUNK_BYTES);
  private filled = 0;

  constructor(
    private readonly sql: SqlRunner,
    private readonly sendId: string,
    private readonly part: number,
  ) {
    super({ highWaterMark: CHUNK_BYTES });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    void this.take(chunk).then(() => done(), done);
  }

  override _final(done: (error?: Error | null) => void): void {
    void (this.filled > 0 ? this.flush() : Promise.resolve()).then(() => done(), done);
  }

  private async take(chunk: Buffer): Promise<void> {
    this.bytes += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const copied = chunk.copy(this.pending, this.filled, offset);
      this.filled += copied;
      offset += copied;
      if (this.filled === CHUNK_BYTES) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    // A copy of exactly what is filled: pg keeps the parameter until the query is sent.
    const data = Buffer.from(this.pending.subarray(0, this.filled));
    this.filled = 0;
    await this.sql.query(`INSERT INTO mail_send_chunks (send_id, part, seq, data) VALUES ($1, $2, $3, $4)`, [this.sendId, this.part, this.chunks, data]);
    this.chunks += 1;
  }
}
