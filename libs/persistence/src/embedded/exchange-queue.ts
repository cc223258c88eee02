import type { PGlite } from '@electric-sql/pglite';

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

/** ReadyForQuery ('Z', length 5, then the transaction status: 'I' idle, 'T' in a transaction, 'E' failed one). */
const READY_FOR_QUERY = [0x5a, 0, 0, 0, 5];
const IDLE = 0x49;

/**
 * The one PGlite session, shared by every client connection one whole exchange at a time. pglite-socket's
 * own queue (0.2.17, and 0.2.18) runs each protocol message in arrival order and keeps a client's messages
 * together only inside a transaction, so two clients' extended-protocol exchanges (Parse, Bind, Execute,
 * Sync: what `pg` sends for every query with parameters) interleave, and one's Parse replaces the other's
 * unnamed statement before its Bind: "unnamed prepared statement does not exist", at every `npm start` (the
 * API's and the listener's first queries run together), or wrong rows when the shapes happen to fit; an
 * exception inside its loop also leaves it stuck for good (electric-sql/pglite#1046, open).
 *
 * Here a client owns the session from its first message until PGlite answers ReadyForQuery with the
 * session idle: an exchange up to its Sync, and a transaction up to its end. Other clients' messages wait
 * in arrival order. An owner that disconnects gives the session back (its transaction rolled back).
 * Same interface as pglite-socket's queue, handed to its PGLiteSocketHandler.
 */
export class ExchangeQueue {
  private readonly waiting: QueuedMessage[] = [];
  /** The client whose exchange or transaction is open (null: the session is idle). */
  private owner: number | null = null;
  private running = false;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ handlerId, message, onData, resolve, reject });
      void this.run();
    });
  }

  getQueueLength(): number {
    return this.waiting.length;
  }

  /** A client went away: what it still had queued is dropped. */
  clearQueueForHandler(handlerId: number): void {
    for (let i = this.waiting.length - 1; i >= 0; i--) if (this.waiting[i].handlerId === handlerId) this.waiting.splice(i, 1);
  }

  /** A client went away: if it owned the session, its transaction is rolled back and the others go on. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK').catch(() => undefined);
    this.owner = null;
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const index = this.owner === null ? (this.waiting.length > 0 ? 0 : -1) : this.waiting.findIndex((item) => item.handlerId === this.owner);
        // The owner's next message has not arrived yet: everyone else waits for it.
        if (index === -1) return;
        const [item] = this.waiting.splice(index, 1);
        this.owner = item.handlerId;
        await this.execute(item);
      }
    } finally {
      this.running = false;
    }
  }

  private async execute(item: QueuedMessage): Promise<void> {
    let bytes = 0;
    let tail: Uint8Array = new Uint8Array(0);
    try {
      await this.db.runExclusive(() =>
        this.db.execProtocolRawStream(item.message, {
          onRawData: (data: Uint8Array) => {
            bytes += data.length;
            tail = lastSix(tail, data);
            item.onData(data);
          },
        }),
      );
      if (endsIdle(tail)) this.owner = null;
      item.resolve(bytes);
    } catch (error) {
      // PGlite itself failed (not an SQL error: those come back as ErrorResponse): give the session back.
      this.owner = null;
      item.reject(error);
    }
  }
}

/** The last six bytes of everything answered so far: where a ReadyForQuery would be. */
function lastSix(before: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length >= 6) return data.slice(data.length - 6);
  const joined = new Uint8Array(before.length + data.length);
  joined.set(before);
  joined.set(data, before.length);
  return joined.slice(Math.max(0, joined.length - 6));
}

function endsIdle(tail: Uint8Array): boolean {
  return tail.length === 6 && READY_FOR_QUERY.every((byte, i) => tail[i] === byte) && tail[5] === IDLE;
}
