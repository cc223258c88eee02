import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { Logger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { LeaseFence } from '@app/cluster';
import { MAIL_EVENTS_QUEUE } from '@app/events';
import { FolderCursorRepository } from '@app/sync';
import { buildMessage, ListenerWorld, queryDatabase } from '@app/testing';
import { ListenerModule } from '../apps/listener/src/listener.module';

/**
 * The real cursor repository, except that it loses the cursor writes it is told to (after the publish
 * they follow went out), and keeps the history of the folder's stored position: what the seam between
 * the IMAP delivery and its repository lets a test reach without a lucky SIGKILL.
 */
class CursorWriteLosingRepository extends FolderCursorRepository {
  /** How many of the next advances to lose. */
  lose = 0;
  readonly lost: { lastUid: number; publishedBefore: number }[] = [];
  /** The folder's stored last UID after every load and every write that went through, in order. */
  readonly positions: number[] = [];

  constructor(
    dataSource: DataSource,
    private readonly publishedSoFar: () => Promise<number>,
  ) {
    super(dataSource);
  }

  override async load(folderId: string) {
    const cursor = await super.load(folderId);
    if (cursor.lastUid !== null) this.positions.push(cursor.lastUid);
    return cursor;
  }

  override async baseline(folderId: string, mailboxId: string, uidValidity: number, lastUid: number, lease: LeaseFence): Promise<void> {
    await super.baseline(folderId, mailboxId, uidValidity, lastUid, lease);
    this.positions.push(await this.stored(folderId));
  }

  override async advance(folderId: string, uidValidity: number, lastUid: number, lease: LeaseFence): Promise<void> {
    if (this.lose > 0) {
      this.lose -= 1;
      this.lost.push({ lastUid, publishedBefore: await this.publishedSoFar() });
      throw new Error('the cursor write was lost (test)');
    }
    await super.advance(folderId, uidValidity, lastUid, lease);
    this.positions.push(await this.stored(folderId));
  }

  private async stored(folderId: string): Promise<number> {
    return (await super.load(folderId)).lastUid ?? 0;
  }
}

/**
 * "Publish succeeded, cursor write failed" for IMAP (real Dovecot, Postgres, Redis, the listener in-process
 * with its cursor repository swapped through DI): the message is published again under the same id on the
 * next catch-up, not under another id, and the cursor never moves backwards.
 */
describe('IMAP delivery: the publish went out, the cursor write did not', () => {
  const world = new ListenerWorld();
  let cursors: CursorWriteLosingRepository;
  let app: INestApplication;
  let redis: Redis;
  let queueEvents: QueueEvents;
  const duplicated: string[] = [];

  beforeAll(async () => {
    await world.start({ listener: false });
    const module = await Test.createTestingModule({ imports: [ListenerModule.forRoot(world.config)] })
      .overrideProvider(FolderCursorRepository)
      .useFactory({
        factory: (dataSource: DataSource) => (cursors = new CursorWriteLosingRepository(dataSource, async () => (await world.events.jobs()).filter((job) => job.name === 'mail.received').length)),
        inject: [getDataSourceToken()],
      })
      .compile();
    app = module.createNestApplication({ bodyParser: false, bufferLogs: true });
    app.useLogger(app.get(Logger));
    await app.listen(0, '127.0.0.1');
    world.listener = { app, url: await app.getUrl(), close: () => app.close() };
    // BullMQ keeps the first job of an id and drops a second add silently: only its event stream shows the re-publish.
    redis = new Redis(world.config.redisUrl, { maxRetriesPerRequest: null });
    queueEvents = new QueueEvents(MAIL_EVENTS_QUEUE, { connection: redis, prefix: world.config.queuePrefix });
    queueEvents.on('duplicated', ({ jobId }) => duplicated.push(jobId));
    await queueEvents.waitUntilReady();
  }, 60_000);

  afterAll(async () => {
    await queueEvents?.close();
    redis?.disconnect();
    await world.stop();
  });

  it('publishes the message again under the same id on the next catch-up; the cursor never moves back', async () => {
    const mailbox = await world.mailbox('lost-cursor@contoso.com');
    await world.waitForState(mailbox.id, 'connected');
    const first = await world.dovecot.deliver(mailbox.email, buildMessage({ subject: 'before' }));
    await world.waitForReceived(mailbox.id, 1);
    const cursorAt = async () => Number((await queryDatabase<{ last_uid: string }>(world.db.url, `SELECT last_uid FROM sync_cursors WHERE mailbox_id = $1`, [mailbox.id]))[0]?.last_uid);
    await world.waitFor(cursorAt, (uid) => uid === first.uid, 10_000, 'the cursor at the first message');

    cursors.lose = 1;
    const lost = await world.dovecot.deliver(mailbox.email, buildMessage({ subject: 'cursor write lost' }));
    // The session closes on the failed write, the runner reconnects, catches up from the stored cursor
    // (still at the first message) and publishes the second one again, under the same id.
    await world.waitFor(async () => duplicated.length, (count) => count >= 1, 15_000, 'the re-publish of the message whose cursor write was lost');
    await world.waitFor(cursorAt, (uid) => uid === lost.uid, 15_000, 'the cursor at the message whose write was lost');
    expect(cursors.lost).toEqual([{ lastUid: lost.uid, publishedBefore: 2 }]);

    // Steady running afterwards: one publish, no re-publish.
    const after = await world.dovecot.deliver(mailbox.email, buildMessage({ subject: 'after' }));
    // The repository's history too: it reads the stored position back after the write, so under load the
    // database may show the new cursor a moment before `positions` does.
    await world.waitFor(
      async () => ({ stored: await cursorAt(), recorded: cursors.positions.at(-1) }),
      ({ stored, recorded }) => stored === after.uid && recorded === after.uid,
      10_000,
      'the cursor at the message after',
    );

    const jobs = await world.received(mailbox.id);
    expect(jobs.map((job) => job.data.message.uid)).toEqual(expect.arrayContaining([first.uid, lost.uid, after.uid]));
    expect(jobs).toHaveLength(3);
    const lostJob = jobs.find((job) => job.data.message.uid === lost.uid)!;
    expect(duplicated).toEqual([lostJob.id]);
    for (let i = 1; i < cursors.positions.length; i++) expect(cursors.positions[i]).toBeGreaterThanOrEqual(cursors.positions[i - 1]);
    expect(cursors.positions.at(-1)).toBe(after.uid);
    expect((await world.status(mailbox.id)).connection.state).toBe('connected');
  });
});
