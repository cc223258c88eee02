import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Listener replicas and their heartbeats. A mailbox's status names the replica that holds it; a replica
 * not heard from for CLUSTER_LEASE_TTL_MS is dead, and the status stops saying `connected` for it.
 */
export class ListenerReplicas1764100000000 implements MigrationInterface {
  name = 'ListenerReplicas1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "listener_replicas" (
        "id" text PRIMARY KEY,
        "state" text NOT NULL DEFAULT 'live' CHECK ("state" IN ('live', 'draining')),
        "started_at" timestamptz NOT NULL,
        "heartbeat_at" timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX "ix_listener_replicas_heartbeat" ON "listener_replicas" ("heartbeat_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "listener_replicas"`);
  }
}
