import { Inject, Injectable, Logger } from '@nestjs/common';
import { tokenFields } from './token-log-fields';
import { InjectDataSource } from '@nestjs/typeorm';
import Redis from 'ioredis';
import { DataSource, EntityManager } from 'typeorm';
import { SecretBox } from '@app/crypto';
import { EventOutbox } from '@app/events';
import { MailboxEntity, OAuthTokenEntity, ProviderEntity } from '@app/persistence';
import { REDIS, RedisLock } from '@app/redis';
import { Clock, CLOCK } from '@app/clock';
import { IdentityClients } from '../identity-clients';
import { TokenCacheMissingError } from '../microsoft/microsoft-identity.client';
import { OAuthMetrics, RefreshResult } from '../oauth.metrics';
import { OAuthTokenStore } from '../oauth-token.store';
import { oauthSettingsOf } from '../oauth-settings';
import { classifyTokenError, ClassifiedTokenError } from '../token-errors';
import { mailboxAuthFailed } from './mailbox-auth-failed.event';
import { retryAt } from './refresh-policy';
import { TokenWriteFence } from './token-write-fence';

export type RefreshOutcome = RefreshResult | 'skipped';

/** Long enough for a slow identity provider; short enough that a crashed holder frees the token soon. */
const LOCK_TTL_MS = 60_000;
/** After a configuration error (bad client secret…) retry no sooner than this: an operator must act. */
const CONFIGURATION_RETRY_MS = 5 * 60_000;

/**
 * Refreshes one token. Refresh tokens rotate, so two processes must never refresh the same grant at once
 * (the second would present a spent refresh token and may kill the grant): a Redis lock per token makes
 * the refresh exclusive, and the due time is re-read under it so a token just refreshed elsewhere is left.
 */
@Injectable()
export class TokenRefresher {
  private readonly logger = new Logger(TokenRefresher.name);
  private readonly lock: RedisLock;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: OAuthTokenStore,
    private readonly clients: IdentityClients,
    private readonly secrets: SecretBox,
    private readonly outbox: EventOutbox,
    private readonly metrics: OAuthMetrics,
    @Inject(REDIS) redis: Redis,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.lock = new RedisLock(redis);
  }

  /**
   * `fence`: the refresh runs under its mailbox's lease (TokenRefreshScheduler, MailboxCredentials); its
   * writes are refused, and the fence marked, once that lease has moved on.
   */
  async refresh(tokenId: string, fence?: TokenWriteFence): Promise<RefreshOutcome> {
    const outcome = await this.lock.withLock(`oauth-refresh:${tokenId}`, LOCK_TTL_MS, () => this.refreshLocked(tokenId, false, fence));
    return outcome.ran ? outcome.value : 'skipped';
  }

  /**
   * Refreshes now, due or not — unless the token still has `minValidityMs` left (someone refreshed it
   * meanwhile). Used when a connection needs a token that is about to expire or was just rejected.
   * `fence`: as for `refresh`.
   */
  async refreshNow(tokenId: string, minValidityMs = 0, fence?: TokenWriteFence): Promise<RefreshOutcome> {
    const outcome = await this.lock.withLock(`oauth-refresh:${tokenId}`, LOCK_TTL_MS, async () => {
      const token = await this.store.find(tokenId);
      if (minValidityMs > 0 && token?.expiresAt && token.expiresAt.getTime() - this.clock.now() > minValidityMs) return 'skipped' as const;
      return this.refreshLocked(tokenId, true, fence);
    });
    return outcome.ran ? outcome.value : 'skipped';
  }

  private async refreshLocked(tokenId: string, force: boolean, fence: TokenWriteFence | undefined): Promise<RefreshOutcome> {
    const token = await this.store.find(tokenId);
    if (!token || token.state !== 'active') return 'skipped';
    if (!force && (!token.refreshDueAt || token.refreshDueAt.getTime() > this.clock.now())) return 'skipped';
    // Fenced by a mailbox's lease that moved on: the identity provider is not asked (the new owner refreshes).
    if (!(await this.store.refreshLeaseHolds(token, fence))) return 'skipped';
    const provider = await this.dataSource.getRepository(ProviderEntity).findOneByOrFail({ id: token.providerId });
    try {
      const settings = oauthSettingsOf(provider, this.secrets);
      const client = this.clients.for(settings);
      const grant = token.mailboxId ? await client.refresh(settings, this.store.secretsOf(token)) : await client.clientCredentials(settings);
      await this.store.transition(tokenId, 'refreshed', { grant }, { fence });
      this.metrics.refreshes.inc({ provider: provider.id, result: 'success' });
      return 'success';
    } catch (error) {
      const classified: ClassifiedTokenError =
        error instanceof TokenCacheMissingError ? { kind: 'permanent', code: error.code, message: error.message } : classifyTokenError(error);
      return this.recordFailure(token, provider, classified, fence);
    }
  }

  private async recordFailure(token: OAuthTokenEntity, provider: ProviderEntity, error: ClassifiedTokenError, fence: TokenWriteFence | undefined): Promise<RefreshOutcome> {
    const now = this.clock.now();
    const reason = { code: error.code, message: error.message };
    if (error.kind === 'permanent') {
      // The token turns invalid and `mailbox.auth_failed` is written to the outbox in one transaction: a
      // publish that fails later (Redis away) is retried by the relay instead of the event being lost.
      const result = await this.store.transition(
        token.id,
        'refresh_failed_permanently',
        { error: reason },
        { fence, withChange: ({ token: invalid }, manager) => this.queueAuthFailed(manager, invalid, reason, now) },
      );
      if (result) this.outbox.committed();
      this.metrics.refreshes.inc({ provider: provider.id, result: 'permanent_failure' });
      this.logger.warn(tokenFields(token), `Token ${token.id}: refresh failed for good (${error.code}); the mailbox needs a new sign-in`);
      return 'permanent_failure';
    }
    const attempts = token.refreshAttempts + 1;
    let due = retryAt(attempts, now, token.expiresAt?.getTime() ?? null, this.store.refreshPolicy);
    if (error.retryAfterMs) due = Math.max(due, now + error.retryAfterMs);
    if (error.kind === 'configuration') due = Math.max(due, now + CONFIGURATION_RETRY_MS);
    await this.store.transition(token.id, 'refresh_failed_transiently', { error: reason, refreshAttempts: attempts, refreshDueAt: new Date(due) }, { fence });
    const result: RefreshResult = error.kind === 'configuration' ? 'configuration_error' : 'transient_failure';
    this.metrics.refreshes.inc({ provider: provider.id, result });
    this.logger.warn(tokenFields(token), `Token ${token.id}: refresh failed (${error.code}, attempt ${attempts}); retrying at ${new Date(due).toISOString()}`);
    return result;
  }

  /** The event of a mailbox's token turned invalid (app-only tokens have no mailbox and no event). */
  private async queueAuthFailed(manager: EntityManager, token: OAuthTokenEntity, reason: { code: string; message: string }, now: number): Promise<void> {
    if (!token.mailboxId) return;
    const mailbox = await manager.findOneBy(MailboxEntity, { id: token.mailboxId });
    if (mailbox) await this.outbox.add(manager, [mailboxAuthFailed(mailbox, token.generation, reason, new Date(now))]);
  }
}
