import { Inject, Injectable } from '@nestjs/common';
import { SecretBox } from '@app/crypto';
import { FailureCode } from '@app/failures';
import { ImapCredential } from '@app/imap';
import { Clock, CLOCK } from '@app/clock';
import { OAuthTokenStore, TokenRefresher } from '@app/oauth';
import { secretContext, TokenState } from '@app/persistence';
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

/** The login secret of a mailbox: its decrypted password, or a valid OAuth access token (refreshed if needed). */
@Injectable()
export class MailboxCredentials {
  constructor(
    private readonly repository: MailboxCredentialRepository,
    private readonly secrets: SecretBox,
    private readonly tokens: OAuthTokenStore,
    private readonly refresher: TokenRefresher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** `mayRefresh: false` (a warm standby, which holds no lease): a token that needs a refresh fails with TokenRefreshNotAllowedError instead. */
  async resolve(mailbox: MailboxSpec, options: { forceRefresh?: boolean; mayRefresh?: boolean } = {}): Promise<ResolvedCredential> {
    if (mailbox.authMethod === 'basic') {
      const encrypted = await this.repository.encryptedPassword(mailbox.id);
      if (encrypted === null) throw new CredentialUnavailableError(FailureCode.NoPassword, 'No password is stored for this mailbox');
      return { credential: { kind: 'password', login: mailbox.login, password: this.secrets.decrypt(encrypted, secretContext.mailboxPassword(mailbox.id)) }, expiresAt: null, tokenId: null };
    }
    let token = await this.repository.token(mailbox, mailbox.appOnly);
    if (!token || token.state !== 'active') {
      const state = (token?.state ?? 'not_obtained') as Exclude<TokenState, 'active'>;
      throw new CredentialUnavailableError(TOKEN_STATE_FAILURES[state], `The OAuth token is ${state.replace(/_/g, ' ')}${token?.lastErrorMessage ? `: ${token.lastErrorMessage}` : ''}`);
    }
    const remaining = (token.expiresAt?.getTime() ?? 0) - this.clock.now();
    if (options.forceRefresh || remaining < MIN_TOKEN_VALIDITY_MS) {
      if (options.mayRefresh === false) throw new TokenRefreshNotAllowedError();
      await this.refresher.refreshNow(token.id, options.forceRefresh ? 0 : MIN_TOKEN_VALIDITY_MS);
      token = (await this.tokens.find(token.id))!;
      if (token.state !== 'active') throw new CredentialUnavailableError(FailureCode.TokenInvalid, `The OAuth token is invalid: ${token.lastErrorMessage ?? 'refresh failed'}`);
    }
    const { accessToken } = this.tokens.secretsOf(token);
    if (!accessToken) throw new CredentialUnavailableError(FailureCode.TokenMissing, 'No access token is stored');
    return { credential: { kind: 'oauth2', login: mailbox.login, accessToken }, expiresAt: token.expiresAt, tokenId: token.id };
  }
}
