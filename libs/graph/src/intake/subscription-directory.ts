import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { withTimeout } from '@app/async';
import { GRAPH_INTAKE_OPTIONS, GraphIntakeOptions } from './graph-intake.options';
import { KnownSubscription, SubscriptionCache } from './subscription-cache';

interface SubscriptionRow {
  subscription_id: string;
  mailbox_id: string;
  folder_id: string;
  client_state_hash: Buffer;
}

/**
 * Finds the subscriptions a notification POST names: from the cache, and every miss of the batch in ONE
 * query. The ids are GUIDs already (parseNotificationCollection drops any other item), at most
 * MAX_NOTIFICATIONS_PER_POST of them. Lookups of an id already being queried (concurrent POSTs for one folder) wait for that query
 * instead of sending their own.
 */
@Injectable()
export class SubscriptionDirectory {
  private readonly cache: SubscriptionCache;
  private readonly inFlight = new Map<string, Promise<KnownSubscription | null>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(GRAPH_INTAKE_OPTIONS) private readonly options: GraphIntakeOptions,
  ) {
    this.cache = new SubscriptionCache({ ttlMs: options.cacheTtlMs, negativeTtlMs: options.negativeCacheTtlMs, maxEntries: options.cacheMaxEntries });
  }

  /** Subscription per id (null: not ours). Rejects when Postgres fails or exceeds the lookup budget. */
  async resolve(subscriptionIds: Iterable<string>): Promise<Map<string, KnownSubscription | null>> {
    const found = new Map<string, KnownSubscription | null>();
    const waiting: Promise<void>[] = [];
    const misses: string[] = [];
    for (const id of subscriptionIds) {
      if (found.has(id)) continue;
      const cached = this.cache.get(id);
      if (cached !== undefined) {
        found.set(id, cached);
      } else {
        const pending = this.inFlight.get(id);
        if (pending) waiting.push(pending.then((subscription) => void found.set(id, subscription)));
        else misses.push(id);
        found.set(id, null); // placeholder, overwritten when the lookup answers
      }
    }
    if (misses.length > 0) waiting.push(this.load(misses).then((loaded) => loaded.forEach((subscription, id) => found.set(id, subscription))));
    if (waiting.length > 0) await withTimeout(Promise.all(waiting), this.options.lookupTimeoutMs, `Graph subscription lookup did not finish within ${this.options.lookupTimeoutMs} ms`);
    return found;
  }

  private load(ids: string[]): Promise<Map<string, KnownSubscription | null>> {
    const query = this.query(ids);
    for (const id of ids) {
      const one = query.then((loaded) => loaded.get(id) ?? null);
      one.catch(() => undefined); // the caller sees the failure through `query`
      this.inFlight.set(id, one);
    }
    return query.finally(() => {
      for (const id of ids) this.inFlight.delete(id);
    });
  }

  private async query(ids: string[]): Promise<Map<string, KnownSubscription | null>> {
    const rows: SubscriptionRow[] = await this.dataSource.query(
      `SELECT subscription_id, mailbox_id, folder_id, client_state_hash FROM graph_subscriptions WHERE subscription_id = ANY($1::text[])`,
      [ids],
    );
    const loaded = new Map<string, KnownSubscription | null>(ids.map((id) => [id, null]));
    for (const row of rows) loaded.set(row.subscription_id, { mailboxId: row.mailbox_id, folderId: row.folder_id, clientStateHash: row.client_state_hash });
    for (const [id, subscription] of loaded) this.cache.set(id, subscription);
    return loaded;
  }
}
