import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { GraphSubscriptionEntity } from '@app/persistence';

export interface StoredGraphSubscription {
  subscriptionId: string;
  expiresAt: Date;
}

/**
 * All SQL about the `graph_subscriptions` rows the API's webhook receiver checks notifications against.
 * A row is written as soon as Graph confirms a subscription (and only then), so the receiver knows it
 * before the folder's first delta round runs.
 */
@Injectable()
export class GraphSubscriptionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Newest first. */
  async forFolder(folderId: string): Promise<StoredGraphSubscription[]> {
    const rows = await this.dataSource.getRepository(GraphSubscriptionEntity).find({ where: { folderId }, order: { expiresAt: 'DESC' } });
    return rows.map((row) => ({ subscriptionId: row.subscriptionId, expiresAt: row.expiresAt }));
  }

  async insert(input: { subscriptionId: string; folderId: string; mailboxId: string; clientStateHash: Buffer; resource: string; expiresAt: Date }): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO graph_subscriptions (subscription_id, folder_id, mailbox_id, client_state_hash, resource, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (subscription_id) DO UPDATE SET client_state_hash = $4, expires_at = $6`,
      [input.subscriptionId, input.folderId, input.mailboxId, input.clientStateHash, input.resource, input.expiresAt],
    );
  }

  async renewed(subscriptionId: string, expiresAt: Date): Promise<void> {
    await this.dataSource.query(`UPDATE graph_subscriptions SET expires_at = $2, renewed_at = now() WHERE subscription_id = $1`, [subscriptionId, expiresAt]);
  }

  async remove(subscriptionId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM graph_subscriptions WHERE subscription_id = $1`, [subscriptionId]);
  }

  async notified(subscriptionIds: string[], at: Date): Promise<void> {
    if (subscriptionIds.length === 0) return;
    await this.dataSource.query(`UPDATE graph_subscriptions SET last_notification_at = $2 WHERE subscription_id = ANY($1)`, [subscriptionIds, at]);
  }
}
