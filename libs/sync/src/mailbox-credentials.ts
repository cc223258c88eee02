import { Inject, Injectable } from '@nestjs/common';
import { FencedOutError, LeaseFence } from '@app/cluster';
import { SecretBox } from '@app/crypto';
import { FailureCode } from '@app/failures';
import { ImapCredential } from '@app/imap';
import { Clock, CLOCK } from '@app/clock';
import { OAuthTokenStore, TokenRefresher, TokenWriteFence } from '@app/oauth';
import { OAuthTokenEntity, secretContext, TokenState } from '@app/persistence';
import { MailboxCredentialRepository } from './mailbox-credential.repository';
import { MailboxSpec } from './mailbox-spec';

/** No usable credential: a human must act (password missing, token not active). */
export class CredentialUnavailableError extends Error {
  readonly code: FailureCode;

  constructor(code: FailureCode, message: string) {
    super(message);
    this.name = 'CredentialUnavailableError';
    this.code = code;
  }
}

/** The token needs a refresh, and the caller may not refresh it (only the holder of the mailbox's lease may). */
export class TokenRefreshNotAllowedError extends Error {
  constructor() {
    super('The OAuth token needs a refresh, which only the holder of the mailbox lease may do');
    this.name = 'TokenRefreshNotAllowedError';
  }
}

export interface ResolvedCredential {
  credential: ImapCredential;
  /** When an OAuth access token expires (the session must re-authenticate before); null for passwords. */
  expiresAt: Date | null;
  tokenId: string | null;
}

/** The code of a mailbox whose token is in a state that cannot sign in. */
const TOKEN_STATE_FAILURES: Record<Exclude<TokenState, 'active'>, FailureCode> = {
  not_obtained: FailureCode.TokenNotObtained,
  waiting_for_authorization: FailureCode.TokenWaitingForAuthorization,
  invalid: FailureCode.TokenInvalid,
};

/** A fresh-enough access token: below this, refresh before connecting. */
const MIN_TOKEN_VALIDITY_MS = 3 * 60_000;

/**
 * The login secret as stored, never refreshed: the decrypted password, or the active token's current
 * access token. What the API uses to read a message on the CRM's behalf — only the mailbox's owner (the
 * listener holding its lease) refreshes a token, so the API takes the access token as it is and says
 * TOKEN_EXPIRED when it has run out rather than refreshing a grant it does not own.
 */
@Injectable()
export class StoredMailboxCredentials {
  constructor(
    private readonly repository: MailboxCredentialRepository,
    private readonly secrets: SecretBox,
  ) {}

  /** `stored`: the encrypted password as the caller read it already (encryptedPasswordColumn); read here when undefined. */
  async password(mailbox: MailboxSpec, stored?: string | null): Promise<ResolvedCredential> {
    const encrypted = stored !== undefined ? stored : await this.repository.encryptedPassword(mailbox.id);
    if (encrypted === null) throw new CredentialUnavailableError(FailureCode.NoPassword, 'No password is stored for this mailbox');
    return { credential: { kind: 'password', login: mailbox.login, password: this.secrets.decrypt(encrypted, secretContext.mailboxPassword(mailbox.id)) }, expiresAt: null, tokenId: null };
  }

  /** The mailbox's token row when it is active; CredentialUnavailableError with the state's code otherwise. */
  async activeToken(mailbox: MailboxSpec): Promise<OAuthTokenEntity> {
    const token = await this.repository.token(mailbox, mailbox.appOnly);
    if (!token || token.state !== 'active') {
      const state = (token?.state ?? 'not_obtained') as Exclude<TokenState, 'active'>;
      throw new CredentialUnavailableError(TOKEN_STATE_FAILURES[state], `The OAuth token is ${state.replace(/_/g, ' ')}${token?.lastErrorMessage ? `: ${token.lastErrorMessage}` : ''}`);
    }
    return token;
  }

  oauth(mailbox: MailboxSpec, token: OAuthTokenEntity): ResolvedCredential {
    const accessToken = token.accessTokenEncrypted ? this.secrets.decrypt(token.accessTokenEncrypted, secretContext.tokenAccess(token.id)) : null;
    if (!accessToken) throw new CredentialUnavailableError(FailureCode.TokenMissing, 'No access token is stored');
    return { credential: { kind: 'oauth2', login: mailbox.login, accessToken }, expiresAt: token.expiresAt, tokenId: token.id };
  }

  /** The current credential, valid for at least `minValidityMs` more; TOKEN_EXPIRED when the access token is past that. */
  async current(mailbox: MailboxSpec, now: number, minValidityMs = 0): Promise<ResolvedCredential> {
    if (mailbox.authMethod === 'basic') return this.password(mailbox);
    const token = await this.activeToken(mailbox);
    if (!token.expiresAt || token.expiresAt.getTime() - now <= minValidityMs) {
      throw new CredentialUnavailableError(
        FailureCode.TokenExpired,
        `The access token ${token.expiresAt ? `expired at ${token.expiresAt.toISOString()}` : 'has no expiry'}; the mailbox's listener refreshes it (is the mailbox enabled and owned? see its status)`,
      );
    }
    return this.oauth(mailbox, token);
  }
}

/** The login secret of a mailbox: its decrypted password, or a valid OAuth access token (refreshed if needed). */
@Injectable()
export class MailboxCredentials {
  private readonly stored: StoredMailboxCredentials;

  constructor(
    repository: MailboxCredentialRepository,
    secrets: SecretBox,
    private readonly tokens: OAuthTokenStore,
    private readonly refresher: TokenRefresher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.stored = new StoredMailboxCredentials(repository, secrets);
  }

  /**
   * `lease`: the runner's. A refresh of the mailbox's own token then runs under it, like the scheduler's
   * (only the mailbox's owner refreshes its token, and the write is fenced): once the lease moved on,
   * the identity provider is not asked and nothing is written (FencedOutError; the runner stops).
   * `mayRefresh: false` (a warm standby, which holds no lease): a token that needs a refresh fails with
   * TokenRefreshNotAllowedError instead. `storedPassword`: a password mailbox's encrypted password (null:
   * none stored) as the caller read it with its own statement (encryptedPasswordColumn), not read again.
   */
  async resolve(
    mailbox: MailboxSpec,
    options: { forceRefresh?: boolean; lease?: LeaseFence; mayRefresh?: boolean; storedPassword?: string | null } = {},
  ): Promise<ResolvedCredential> {
    if (mailbox.authMethod === 'basic') return this.stored.password(mailbox, options.storedPassword);
    let token = await this.stored.activeToken(mailbox);
    const remaining = (token.expiresAt?.getTime() ?? 0) - this.clock.now();
    if (options.forceRefresh || remaining < MIN_TOKEN_VALIDITY_MS) {
      if (options.mayRefresh === false) throw new TokenRefreshNotAllowedError();
      await this.refreshNow(token.id, token.mailboxId, options.forceRefresh ? 0 : MIN_TOKEN_VALIDITY_MS, options.lease);
      token = (await this.tokens.find(token.id))!;
      if (token.state !== 'active') throw new CredentialUnavailableError(FailureCode.TokenInvalid, `The OAuth token is invalid: ${token.lastErrorMessage ?? 'refresh failed'}`);
    }
    return this.stored.oauth(mailbox, token);
  }

  /** A mailbox's own token under the runner's lease; a provider's app-only token (no mailbox) as it is. */
  private async refreshNow(tokenId: string, mailboxId: string | null, minValidityMs: number, lease: LeaseFence | undefined): Promise<void> {
    if (!lease || mailboxId === null) {
      await this.refresher.refreshNow(tokenId, minValidityMs);
      return;
    }
    const fence = new TokenWriteFence({ mailboxId, ...lease });
    await this.refresher.refreshNow(tokenId, minValidityMs, fence);
    if (fence.refused) throw new FencedOutError(`Token refresh of mailbox ${mailboxId}`, lease);
  }
}
