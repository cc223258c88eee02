import { EventEmitter } from 'node:events';
import { ImapFlow, type FetchMessageObject } from 'imapflow';
import { withTimeout } from '@app/async';
import { FailureCode } from '@app/failures';
import { FetchedMessage } from '@app/events';
import { OutboundPolicy } from '@app/outbound';
import { DEFAULT_IMAP_TIMEOUTS, ImapCredential, ImapEndpoint, imapFlowOptions, ImapTimeouts } from './imap-endpoint';
import { classifyImapError, ImapFailure } from './imap-errors';
import { examineFolder } from './examine-folder';
import { receivedMessageOf } from './message-mapper';

export interface FolderCursor {
  uidValidity: number | null;
  lastUid: number | null;
}

/** Where a folder session reads its position from and hands its messages to (the sync runtime). */
export interface FolderSyncSink {
  cursor(): Promise<FolderCursor>;
  /** A new starting point: first subscription, or the folder's UIDVALIDITY changed (`previous` says from what). */
  baseline(uidValidity: number, lastUid: number, previous: FolderCursor): Promise<void>;
  /** Publishes the messages (UID order) and only then advances the cursor to the last of them. */
  deliver(messages: FetchedMessage[], uidValidity: number): Promise<void>;
  /** First subscription only: publish mail received since then instead of starting from "now". */
  backfillSince(): Date | null;
}

export interface ImapFolderSessionOptions {
  endpoint: ImapEndpoint;
  /** Which addresses the connection may reach (production refuses internal ones unless allow-listed). */
  outbound: OutboundPolicy;
  credential: ImapCredential;
  folder: string;
  sink: FolderSyncSink;
  timeouts?: ImapTimeouts;
  /** Messages published per batch (one Redis round trip, one cursor write). */
  batchSize?: number;
  /**
   * Safety sweep: this often (with jitter) the session asks the server for anything past the cursor
   * itself, whatever IDLE said — a push the server or a middlebox lost is caught, and a connection that
   * silently died (NAT timeout, half-open TCP) is noticed: a sweep not answered within
   * min(60 s, the interval) closes the session and the runner reconnects and catches up. 0: off.
   */
  sweepIntervalMs?: number;
  /**
   * Standby (a make-before-break hand-over's taker, before the lease is granted): open() logs in, EXAMINEs
   * and IDLEs, and nothing more — no cursor read, no fetch, no sink call, no sweep — until `activate()`.
   */
  standby?: boolean;
}

const SWEEP_TIMEOUT_MAX_MS = 60_000;
/** Closing waits this long at most for the server to acknowledge LOGOUT. */
const LOGOUT_WAIT_MS = 2_000;
/** Closing waits this long at most for a delivery in flight (a publish and a cursor write: milliseconds when healthy). */
const DELIVERY_WAIT_MS = 5_000;

const FETCH_QUERY = { uid: true, envelope: true, size: true, internalDate: true } as const;

/**
 * One IMAP connection following one folder: log in, EXAMINE (read-only: nothing we do marks mail as
 * read), catch up from the stored cursor, then IDLE; on EXISTS fetch the new UIDs, deliver them and move
 * the cursor. Emits `closed` (with the failure, if any) when the connection ends without `close()`.
 * imapflow never reconnects by itself: the runner owning this session does.
 */
export class ImapFolderSession extends EventEmitter {
  private readonly client: ImapFlow;
  private uidValidity = 0;
  private lastUid = 0;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;
  private sweepTimer?: NodeJS.Timeout;
  private closing = false;
  private lastFailure: ImapFailure | null = null;
  /** The sink's baseline or delivery in progress: closing waits for it, so whoever takes the folder next finds its cursor written. */
  private delivering: Promise<void> | null = null;
  /** Standing by (see ImapFolderSessionOptions.standby): new mail is only noted, for `activate()` to fetch. */
  private standby: boolean;
  /** UIDNEXT as the EXAMINE answered: where a folder with no usable cursor takes its baseline. */
  private uidNextAtOpen = 0;

  constructor(private readonly options: ImapFolderSessionOptions) {
    super();
    this.standby = options.standby ?? false;
    this.client = new ImapFlow(imapFlowOptions(options.endpoint, options.credential, options.timeouts ?? DEFAULT_IMAP_TIMEOUTS, options.outbound));
    this.client.on('error', (error: unknown) => {
      this.lastFailure ??= classifyImapError(error);
    });
    this.client.on('close', () => {
      if (!this.closing) this.emit('closed', this.lastFailure ?? { kind: 'network', code: FailureCode.ConnectionLost, message: 'The server closed the connection' });
    });
    this.client.on('exists', () => this.requestSync());
  }

  /**
   * Connects, selects and catches up. Resolves when the session is really listening (IDLE follows).
   * New mail announced meanwhile (an EXISTS in the middle of the catch-up's FETCH) is fetched once the
   * catch-up is done, from where it ended: a second fetch from the same cursor, running alongside,
   * would deliver the same messages twice.
   */
  async open(): Promise<void> {
    if (this.standby) return this.connectAndSelect();
    const opening = this.connectAndCatchUp();
    this.syncing = opening.catch(() => undefined);
    try {
      await opening;
    } finally {
      this.syncing = null;
    }
    if (this.syncAgain) void this.requestSync();
    this.scheduleSweep();
  }

  /**
   * A standby session becomes an ordinary one (its runner was granted the mailbox's lease): it catches up
   * from the cursor as stored now — the previous owner wrote its last one before granting — on the
   * connection already open, fetches whatever was announced while it stood by (or is newer still), and
   * from then on fetches on EXISTS and sweeps. Rejects as open() does; a session that closed meanwhile
   * rejects too (its runner reconnects and catches up).
   */
  async activate(): Promise<void> {
    if (!this.standby) return;
    this.standby = false;
    if (this.closing) throw Object.assign(new Error('The session closed while standing by'), { failure: this.lastFailure ?? { kind: 'network', code: FailureCode.ConnectionLost, message: 'The session closed while standing by' } });
    const catchingUp = this.guarded(() => this.catchUp(this.uidNextAtOpen));
    this.syncing = catchingUp.catch(() => undefined);
    try {
      await catchingUp;
    } finally {
      this.syncing = null;
    }
    // The catch-up went from UIDNEXT as EXAMINE saw it: one fetch past the cursor for anything newer.
    void this.requestSync();
    this.scheduleSweep();
  }

  private async connectAndSelect(): Promise<void> {
    await this.guarded(async () => {
      // An IP literal is connected to without a lookup: judge it here (names are judged by the lookup).
      this.options.outbound.checkHost(this.options.endpoint.host);
      await this.client.connect();
      const mailbox = await examineFolder(this.client, this.options.folder);
      this.uidValidity = Number(mailbox.uidValidity);
      this.uidNextAtOpen = mailbox.uidNext;
    });
  }

  private async connectAndCatchUp(): Promise<void> {
    await this.connectAndSelect();
    await this.guarded(() => this.catchUp(this.uidNextAtOpen));
  }

  /** Runs a step of opening (or activating): a failure closes the connection and rejects with its classified failure attached. */
  private async guarded(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      const failure = classifyImapError(error);
      this.closing = true;
      this.client.close();
      throw Object.assign(new Error(failure.message), { failure });
    }
  }

  /**
   * Ends the session. A delivery in flight (published, cursor not yet written) finishes first, bounded:
   * when a replica hands the mailbox over after this, the next owner starts from that cursor instead of
   * publishing the same messages again. Batches not yet handed to the sink are left for the next owner.
   * `drop: true` (a hand-over or a release: someone else logs in next): resolves once nothing more can
   * be delivered — the delivery in flight written, anything fetched later dropped — and closes the
   * connection without a word (no LOGOUT, no DONE: see drop()). A hibernated IDLE session would have to
   * be woken for either: Dovecot starts an imap process for it, as for a login, and a drain's hundreds
   * of them hold up its pushes to every other hibernated session; a closed connection costs it nothing
   * of the kind.
   */
  async close(options: { drop?: boolean } = {}): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.sweepTimer);
    if (this.delivering) await withTimeout(this.delivering, DELIVERY_WAIT_MS).catch(() => undefined);
    if (options.drop) this.drop();
    else await this.logout();
  }

  /**
   * Closes the connection without a word. imapflow's close() breaks an IDLE with DONE first; Dovecot
   * answers a DONE to a hibernated session by starting an imap process and importing the session back
   * into it, as costly as a login (and on a server busy with the next owner's logins it waited 30 s for
   * one and ended in "Failed to unhibernate client": bench:failover's join and drain, ~1,000 each).
   * A connection that just closes ends at imap-hibernate.
   */
  private drop(): void {
    try {
      this.client.unbind().socket.destroy();
    } catch {
      // Not connected (still opening, or already gone): close() below is all there is to do.
    }
    this.client.close();
  }

  private async logout(): Promise<void> {
    try {
      await withTimeout(this.client.logout(), LOGOUT_WAIT_MS);
    } catch {
      // Already gone, or not answering: closed below either way.
    } finally {
      this.client.close();
    }
  }

  /** Fetches anything past the cursor now (used on resync requests and by make-before-break). */
  requestSync(): Promise<void> {
    if (this.closing) return Promise.resolve();
    if (this.syncing || this.standby) {
      this.syncAgain = true;
      return this.syncing ?? Promise.resolve();
    }
    // imapflow emits `exists` from its own promise chain, so one can land after the loop's last check
    // and before this callback: it found `syncing` set and only raised `syncAgain`. Nobody would fetch
    // that mail until the next EXISTS or safety sweep; look at the flag once more here.
    this.syncing = this.syncLoop().finally(() => {
      this.syncing = null;
      if (this.syncAgain && !this.closing) void this.requestSync();
    });
    return this.syncing;
  }

  private scheduleSweep(): void {
    const every = this.options.sweepIntervalMs ?? 0;
    if (every <= 0 || this.closing) return;
    this.sweepTimer = setTimeout(() => void this.sweep(Math.min(SWEEP_TIMEOUT_MAX_MS, every)), every * (0.8 + Math.random() * 0.4));
    this.sweepTimer.unref?.();
  }

  private async sweep(timeoutMs: number): Promise<void> {
    try {
      await withTimeout(this.requestSync(), timeoutMs);
    } catch {
      // No answer in time: the connection is dead. Closing it makes the runner reconnect and catch up.
      if (this.closing) return;
      this.lastFailure = { kind: 'network', code: FailureCode.SweepTimeout, message: `The server did not answer a safety check within ${timeoutMs / 1000} s (dead connection)` };
      this.client.close();
      return;
    }
    this.scheduleSweep();
  }

  private async catchUp(uidNext: number): Promise<void> {
    const sink = this.options.sink;
    const cursor = await sink.cursor();
    const newest = Math.max(0, uidNext - 1);
    if (cursor.uidValidity === null || cursor.uidValidity !== this.uidValidity) {
      const since = cursor.uidValidity === null ? sink.backfillSince() : null;
      if (since) {
        this.lastUid = 0;
        const uids = (await this.client.search({ since }, { uid: true })) || [];
        await this.deliverUids(uids.filter((uid) => uid <= newest));
        await this.sinkWrite(() => sink.baseline(this.uidValidity, newest, cursor));
      } else {
        await this.sinkWrite(() => sink.baseline(this.uidValidity, newest, cursor));
      }
      this.lastUid = newest;
      return;
    }
    this.lastUid = cursor.lastUid ?? newest;
    if (newest > this.lastUid) await this.fetchNew();
  }

  private async syncLoop(): Promise<void> {
    try {
      do {
        this.syncAgain = false;
        await this.fetchNew();
      } while (this.syncAgain && !this.closing);
    } catch (error) {
      if (this.closing) return;
      // A sweep that timed out already said why (its close is what failed this fetch).
      this.lastFailure ??= classifyImapError(error);
      // A failed fetch or publish leaves the cursor where it was; reconnecting catches up from there.
      this.client.close();
    }
  }

  /**
   * A baseline or delivery the sink is writing; `close()` waits for it. None starts once closing began:
   * close() waits only for the write in progress when it was called, and the runner hands the lease over
   * as soon as close() returned, so a write started later (the catch-up's baseline after its cursor read)
   * would land under a lease already granted and be refused.
   */
  private async sinkWrite(start: () => Promise<void>): Promise<void> {
    if (this.closing) throw new Error('The session closed before this write to the sink');
    const write = start();
    this.delivering = write;
    try {
      await write;
    } finally {
      this.delivering = null;
    }
  }

  /** UID FETCH lastUid+1:* — note `n:*` also returns the newest message when none is newer, hence the filter. */
  private async fetchNew(): Promise<void> {
    const fetched: FetchMessageObject[] = [];
    for await (const message of this.client.fetch(`${this.lastUid + 1}:*`, FETCH_QUERY, { uid: true })) {
      if (message.uid > this.lastUid) fetched.push(message);
    }
    await this.deliverMessages(fetched);
  }

  private async deliverUids(uids: number[]): Promise<void> {
    if (uids.length === 0) return;
    const fetched: FetchMessageObject[] = [];
    for await (const message of this.client.fetch(uids.join(','), FETCH_QUERY, { uid: true })) fetched.push(message);
    await this.deliverMessages(fetched);
  }

  private async deliverMessages(fetched: FetchMessageObject[]): Promise<void> {
    fetched.sort((a, b) => a.uid - b.uid);
    const size = this.options.batchSize ?? 200;
    for (let i = 0; i < fetched.length; i += size) {
      // Closing: the rest is caught up from the cursor by whoever runs the folder next.
      if (this.closing) throw new Error('The session closed before these messages were delivered');
      const batch = fetched.slice(i, i + size);
      await this.sinkWrite(() =>
        this.options.sink.deliver(
          batch.map((message) => receivedMessageOf(message, this.options.folder, this.uidValidity)),
          this.uidValidity,
        ),
      );
      this.lastUid = Math.max(this.lastUid, batch[batch.length - 1].uid);
    }
  }
}
