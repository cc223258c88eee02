import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox of `mail-events`: an event is written here in the same transaction (or the
 * same statement) as the row change it reports, and a relay on every API and listener process publishes
 * it to BullMQ under its own id and deletes it. So a status change and its event commit together or not
 * at all. `seq` gives the publishing order; `event_id` is the event's deterministic id (the BullMQ job id).
 * The payload is `json`, not `jsonb`, so the event goes out with its fields in the order they were written.
 */
export class EventOutbox1764400000000 implements MigrationInterface {
  name = 'EventOutbox1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "event_outbox" (
        "seq" bigserial PRIMARY KEY,
        "event_id" text NOT NULL,
        "type" text NOT NULL,
        "payload" json NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "uq_event_outbox_event_id" UNIQUE ("event_id")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "event_outbox"`);
  }
}
