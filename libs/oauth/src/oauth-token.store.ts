import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { leaseHeldSql } from '@app/cluster';
import { APP_CONFIG, AppConfig } from '@app/config';
import { MailboxAnnouncer } from '@app/control';
import { SecretBox } from '@app/crypto';
import { OAuthTokenEntity, secretContext, TokenState } from '@app/persistence';
import { Clock, CLOCK } from '@app/clock';
import { DEFAULT_REFRESH_POLICY, RefreshPolicy, refreshDueAt } from './refresh/refresh-policy';
import { TokenWriteFence } from './refresh/token-write-fence';
import { TokenGrant, TokenSecrets } from './token-grant';
import { nextTokenState, TokenEvent } from './token-state';

export interface TokenError {
  code: string;
  message: string;
}

/** Everything a transition may change besides the state itself. */
export interface TokenChange {
  /** New tokens: a sign-in or import (`newGrant`), or a refresh of the same grant. */
  grant?: TokenGrant;
  newGrant?: boolean;
  error?: TokenError | null;
  /** Pending authorization details; null clears them. */
  authorization?: Record<string, unknown> | null;
  refreshDueAt?: Date | null;
  refreshAttempts?: number;
}

/** A token whose proactive refresh is due, as one replica may take it. */
export interface DueToken {
  id: string;
  /** null: the provider's app-only token. */
  mailboxId: string | null;
  /** The epoch under which the replica asking holds the mailbox's lease; null when nobody holds it (then no fence). */
  epoch: number | null;
}

export interface TransitionResult {
  token: OAuthTokenEntity;
  previous: TokenState;
}

/** What a transition may be conditioned on or carry along, besides the change itself. */
export interface TransitionOptions {
  /** Sees the locked row first and may veto the change by returning false; then nothing is written. */
  guard?: (token: OAuthTokenEntity) => boolean;
  /** Runs in the same transaction after the row is written: what must commit with the change or not at all. */
  withChange?: (result: TransitionResult, manager: EntityManager) => Promise<void>;
  /** The refresh's, when it runs under its mailbox's lease: nothing is written once that lease has moved on. */
  fence?: TokenWriteFence;
}

/** What the `deleted` event leaves of a token: no tokens, no pending authorization, no error. */
export function forgetGrant(token: OAuthTokenEntity): void {
  token.accessTokenEncrypted = null;
  token.refreshTokenEncrypted = null;
  token.cacheEncrypted = null;
  token.expiresAt = null;
  token.issuedAt = null;
  token.accountUsername = null;
  token.refreshDueAt = null;
  token.refreshAttempts = 0;
  token.authorization = null;
  token.lastErrorCode = null;
  token.lastErrorMessage = null;
  token.lastErrorAt = null;
}

/**
 * The only writer of `oauth_tokens`. Every change goes through `transition`, which locks the row, checks
 * the move against the token state machine and writes secrets encrypted, in one transaction.
 */
/** Token events a mailbox's runner must hear about at once (it is restarted with the new grant, or stopped for want of one). */
const ANNOUNCED_TOKEN_EVENTS: ReadonlySet<TokenEvent> = new Set<TokenEvent>(['authorization_completed', 'tokens_imported', 'deleted']);

@Injectable()
export class OAuthTokenStore {
  private readonly policy: RefreshPolicy;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
    /** The API's (absent in the listener): token changes that matter to a runner are announced to the listeners. */
    @Optional() private readonly announcer?: MailboxAnnouncer,
  ) {
    const r = config.oauth.refresh;
    this.policy = { ...DEFAULT_REFRESH_POLICY, minLeadMs: r.minLeadMs, leadFraction: r.leadFraction, jitterFraction: r.jitterFraction };
  }

  get refreshPolicy(): RefreshPolicy {
    return this.policy;
  }

  /** The mailbox's token row, created in `not_obtained` on first use. */
  async forMailbox(mailboxId: string, providerId: string): Promise<OAuthTokenEntity> {
    await this.dataSource.query(
      `INSERT INTO oauth_tokens (provider_id, mailbox_id, state) VALUES ($1, $2, 'not_obtained') ON CONFLICT (mailbox_id) WHERE mailbox_id IS NOT NULL DO NOTHING`,
      [providerId, mailboxId],
    );
    return this.dataSource.getRepository(OAuthTokenEntity).findOneByOrFail({ mailboxId });
  }

  /** The provider's app-only (client credentials) token row. */
  async forProvider(providerId: string): Promise<OAuthTokenEntity> {
    await this.dataSource.query(
      `INSERT INTO oauth_tokens (provider_id, mailbox_id, state) VALUES ($1, NULL, 'not_obtained') ON CONFLICT (provider_id) WHERE mailbox_id IS NULL DO NOTHING`,
      [providerId],
    );
    return this.dataSource.getRepository(OAuthTokenEntity).findOneByOrFail({ providerId, mailboxId: IsNull() });
  }

  /**
   * Active tokens due for refresh by `now` that replica `me` refreshes, soonest first:
   * - a mailbox's token when `me` holds the mailbox's lease (with its epoch: the writes are fenced by it),
   *   or when nobody holds it (no leases yet — one listener, or the supervisor does not take them —, or
   *   a mailbox beyond every LISTENER_MAX_MAILBOXES cap): then any replica, as before leases, and the
   *   per-token lock in TokenRefresher keeps it to one. A lease held by another replica, live or dead,
   *   leaves the token to that owner or to whoever takes the mailbox over. Disabled mailboxes never.
   * - a provider's app-only token only on the lowest-id replica that is live and not draining, by the
   *   database's clock: one replica, chosen from the membership every replica already shares.
   */
  async dueForRefresh(now: Date, me: { id: string; leaseTtlMs: number }, limit: number): Promise<DueToken[]> {
    const rows = (await this.dataSource.query(
      `SELECT t.id, t.mailbox_id, l.epoch
         FROM oauth_tokens t
         LEFT JOIN mailboxes m ON m.id = t.mailbox_id
         LEFT JOIN mailbox_leases l ON l.mailbox_id = t.mailbox_id AND l.owner_id IS NOT NULL
        WHERE t.state = 'active' AND t.refresh_due_at <= $1
          AND CASE WHEN t.mailbox_id IS NULL
                   THEN $2 = (SELECT min(r.id) FROM listener_replicas r
                               WHERE r.state = 'live' AND r.heartbeat_at >= now() - $3 * interval '1 millisecond')
                   ELSE m.enabled AND (l.owner_id IS NULL OR l.owner_id = $2)
              END
        ORDER BY t.refresh_due_at LIMIT $4`,
      [now, me.id, me.leaseTtlMs, limit],
    )) as Array<{ id: string; mailbox_id: string | null; epoch: string | null }>;
    return rows.map((row) => ({ id: row.id, mailboxId: row.mailbox_id, epoch: row.epoch === null ? null : Number(row.epoch) }));
  }

  async find(tokenId: string): Promise<OAuthTokenEntity | null> {
    return this.dataSource.getRepository(OAuthTokenEntity).findOneBy({ id: tokenId });
  }

  async findByMailbox(mailboxId: string): Promise<OAuthTokenEntity | null> {
    return this.dataSource.getRepository(OAuthTokenEntity).findOneBy({ mailboxId });
  }

  secretsOf(token: OAuthTokenEntity): TokenSecrets {
    return {
      accessToken: token.accessTokenEncrypted ? this.secrets.decrypt(token.accessTokenEncrypted, secretContext.tokenAccess(token.id)) : null,
      refreshToken: token.refreshTokenEncrypted ? this.secrets.decrypt(token.refreshTokenEncrypted, secretContext.tokenRefresh(token.id)) : null,
      cache: token.cacheEncrypted ? this.secrets.decrypt(token.cacheEncrypted, secretContext.tokenCache(token.id)) : null,
    };
  }

  /**
   * Applies `event` to the token. `guard` sees the locked row first and may veto the change by
   * returning false (e.g. a device-code poller whose flow was superseded); then nothing is written.
   * With the `fence` of a refresh run under its mailbox's lease, nothing is written either once that
   * lease has moved on (see leaseStillHeld).
   * `withChange` runs in the same transaction after the row is written: what must commit with the change
   * or not at all (the `mailbox.auth_failed` event into the outbox).
   */
  async transition(tokenId: string, event: TokenEvent, change: TokenChange = {}, options: TransitionOptions = {}): Promise<TransitionResult | null> {
    const { guard, withChange, fence } = options;
    const result = await this.dataSource.transaction(async (manager) => {
      const token = await manager.findOne(OAuthTokenEntity, { where: { id: tokenId }, lock: { mode: 'pessimistic_write' } });
      if (!token) return null;
      if (!(await this.leaseStillHeld(manager, token, fence))) return null;
      if (guard && !guard(token)) return null;
      const previous = token.state;
      token.state = nextTokenState(previous, event);
      this.apply(token, event, change);
      await manager.save(OAuthTokenEntity, token);
      const result = { token, previous };
      await withChange?.(result, manager);
      return result;
    });
    // After the commit: a new grant (sign-in by device code or callback, import) or forgotten tokens change
    // what the mailbox's runner can do. Refreshes keep the grant and are not announced.
    if (result && ANNOUNCED_TOKEN_EVENTS.has(event)) {
      // A provider's app-only token (no mailbox) is what every mailbox of that provider signs in with.
      if (result.token.mailboxId) this.announcer?.announce('token-changed', result.token.mailboxId);
      else this.announcer?.announceProvider('app-token-changed', result.token.providerId);
    }
    return result;
  }

  /** Runs `work` with the token row locked (e.g. to claim a single-use authorization). */
  async withLockedToken<T>(tokenId: string, work: (token: OAuthTokenEntity, manager: EntityManager) => Promise<T>): Promise<T | null> {
    return this.dataSource.transaction(async (manager) => {
      const token = await manager.findOne(OAuthTokenEntity, { where: { id: tokenId }, lock: { mode: 'pessimistic_write' } });
      return token ? work(token, manager) : null;
    });
  }

  /**
   * Before a refresh run under its mailbox's lease (with that lease's `fence`) asks the identity provider:
   * whether that lease still holds. A refresh token redeemed by a replica that lost the mailbox may be
   * spent for its new owner (rotation), and its result would be dropped anyway. False marks the fence
   * refused. True without a fence, or when the fence is not this token's (an app-only token).
   */
  async refreshLeaseHolds(token: OAuthTokenEntity, fence?: TokenWriteFence): Promise<boolean> {
    return this.leaseStillHeld(this.dataSource.manager, token, fence);
  }

  /**
   * The lease fence of a mailbox token's refresh: the write goes ahead only while the replica that chose
   * the token as the mailbox's owner still holds its lease under the same epoch (checked with the token
   * row locked, in the write's transaction). Otherwise its result is dropped and the fence marked refused
   * (the refresh's caller counts the refused write, or stops its runner): the mailbox's new owner refreshes it.
   */
  private async leaseStillHeld(manager: EntityManager, token: OAuthTokenEntity, fence: TokenWriteFence | undefined): Promise<boolean> {
    const lease = fence?.leaseFor(token.mailboxId);
    if (!fence || !lease) return true;
    const [row] = (await manager.query(`SELECT ${leaseHeldSql('$1::uuid', '$2', '$3::bigint')} AS held`, [lease.mailboxId, lease.owner, lease.epoch])) as Array<{
      held: boolean;
    }>;
    if (row?.held === true) return true;
    fence.refuse();
    return false;
  }

  private apply(token: OAuthTokenEntity, event: TokenEvent, change: TokenChange): void {
    const now = this.clock.now();
    if (change.grant) {
      const grant = change.grant;
      token.accessTokenEncrypted = this.secrets.encrypt(grant.accessToken, secretContext.tokenAccess(token.id));
      if (grant.refreshToken) token.refreshTokenEncrypted = this.secrets.encrypt(grant.refreshToken, secretContext.tokenRefresh(token.id));
      if (grant.cache) token.cacheEncrypted = this.secrets.encrypt(grant.cache, secretContext.tokenCache(token.id));
      const expiresAt = now + grant.expiresInMs;
      token.expiresAt = new Date(expiresAt);
      token.issuedAt = new Date(now);
      token.scopes = grant.scopes;
      if (grant.username) token.accountUsername = grant.username;
      token.lastRefreshAt = new Date(now);
      token.refreshAttempts = 0;
      token.refreshDueAt = new Date(refreshDueAt(now, expiresAt, now, this.policy));
      token.lastErrorCode = null;
      token.lastErrorMessage = null;
      token.lastErrorAt = null;
      if (change.newGrant) token.generation += 1;
    }
    if (event === 'deleted') forgetGrant(token);
    if (event === 'refresh_failed_permanently') token.refreshDueAt = null;
    if (change.error !== undefined) {
      token.lastErrorCode = change.error?.code ?? null;
      token.lastErrorMessage = change.error?.message ?? null;
      token.lastErrorAt = change.error ? new Date(now) : null;
    }
    if (change.authorization !== undefined) token.authorization = change.authorization;
    if (change.refreshDueAt !== undefined) token.refreshDueAt = change.refreshDueAt;
    if (change.refreshAttempts !== undefined) token.refreshAttempts = change.refreshAttempts;
  }
}
