import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { FencedOutError, LeaseFence, leaseHeldSql } from '@app/cluster';
import { GraphSubscriptionEntity } from '@app/persistence';

export interface StoredGraphSubscription {
  subscriptionId: string;
  expiresAt: Date;
}

/**
 * All SQL about the `graph_subscriptions` rows the API's webhook receiver checks notifications against.
 * A row is written as soon as Graph confirms a subscription (and only then), so the receiver knows it
 * before the folder's first delta round runs. Every write carries the writer's lease (owner and epoch,
 * checked in the same statement): a replica that lost the mailbox cannot replace or forget the rows of
 * the subscriptions its new owner runs.
 */
@Injectable()
export class GraphSubscriptionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Newest first. */
  async forFolder(folderId: string): Promise<StoredGraphSubscription[]> {
    const rows = await this.dataSource.getRepository(GraphSubscriptionEntity).find({ where: { folderId }, order: { expiresAt: 'DESC' } });
    return rows.map((row) => ({ subscriptionId: row.subscriptionId, expiresAt: row.expiresAt }));
  }

  /** A subscription Graph confirmed; refused (FencedOutError) once `lease` no longer holds the mailbox. */
  async insert(
    input: { subscriptionId: string; folderId: string; mailboxId: string; clientStateHash: Buffer; resource: string; expiresAt: Date },
    lease: LeaseFence,
  ): Promise<void> {
    // Proposed only while the lease holds, so the condition covers the insert and the update.
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO graph_subscriptions (subscription_id, folder_id, mailbox_id, client_state_hash, resource, expires_at)
       SELECT $1::text, $2::uuid, $3::uuid, $4::bytea, $5::text, $6::timestamptz WHERE ${leaseHeldSql('$3::uuid', '$7::text', '$8::bigint')}
       ON CONFLICT (subscription_id) DO UPDATE SET client_state_hash = $4, expires_at = $6
       RETURNING subscription_id`,
      [input.subscriptionId, input.folderId, input.mailboxId, input.clientStateHash, input.resource, input.expiresAt, lease.owner, lease.epoch],
    );
    if (rows.length === 0) throw new FencedOutError(`Graph subscription ${input.subscriptionId} of folder ${input.folderId}`, lease);
  }

  async renewed(subscriptionId: string, expiresAt: Date, mailboxId: string, lease: LeaseFence): Promise<void> {
    await this.fenced(
      `UPDATE graph_subscriptions SET expires_at = $5, renewed_at = now() WHERE subscription_id = $1 AND (SELECT held FROM fence)`,
      [subscriptionId, mailboxId, lease.owner, lease.epoch, expiresAt],
      `Renewal of Graph subscription ${subscriptionId}`,
      lease,
    );
  }

  /** Forgets a subscription (gone at Graph, replaced, or deleted there); one already forgotten is no error. */
  async remove(subscriptionId: string, mailboxId: string, lease: LeaseFence): Promise<void> {
    await this.fenced(
      `DELETE FROM graph_subscriptions WHERE subscription_id = $1 AND (SELECT held FROM fence)`,
      [subscriptionId, mailboxId, lease.owner, lease.epoch],
      `Removal of Graph subscription ${subscriptionId}`,
      lease,
    );
  }

  /** Bookkeeping only (when the folder last heard from Graph): a replica that lost the mailbox writes nothing, silently. */
  async notified(subscriptionIds: string[], at: Date, mailboxId: string, lease: LeaseFence): Promise<void> {
    if (subscriptionIds.length === 0) return;
    await this.dataSource.query(
      `UPDATE graph_subscriptions SET last_notification_at = $2 WHERE subscription_id = ANY($1) AND ${leaseHeldSql('$3::uuid', '$4::text', '$5::bigint')}`,
      [subscriptionIds, at, mailboxId, lease.owner, lease.epoch],
    );
  }

  /**
   * Runs `change` (which reads `(SELECT held FROM fence)`; $2-$4 are mailbox id, owner and epoch) in one
   * statement with the lease check, and throws FencedOutError when the lease no longer held: a row the
   * change did not find is no error, a lease lost is.
   */
  private async fenced(change: string, params: unknown[], write: string, lease: LeaseFence): Promise<void> {
    const [row]: { held: boolean }[] = await this.dataSource.query(
      `WITH fence AS (SELECT ${leaseHeldSql('$2::uuid', '$3::text', '$4::bigint')} AS held), changed AS (${change} RETURNING 1) SELECT held FROM fence`,
      params,
    );
    if (!row?.held) throw new FencedOutError(write, lease);
  }
}
