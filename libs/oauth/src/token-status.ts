import { DataSource, IsNull } from 'typeorm';
import { OAuthTokenEntity, TokenState } from '@app/persistence';

/** The token as the API shows it: state and dates, never a secret. */
export interface TokenStatus {
  state: TokenState;
  expiresAt: string | null;
  lastRefreshAt: string | null;
  lastError: { code: string; message: string; at: string } | null;
  pendingAuthorization: { userCode?: string; verificationUri?: string; expiresAt?: string } | null;
  /** The account the identity provider said signed in (what "Signed in as …" shows); null until one did. */
  account: string | null;
}

export function tokenStatusOf(token: OAuthTokenEntity | null): TokenStatus {
  if (!token) return { state: 'not_obtained', expiresAt: null, lastRefreshAt: null, lastError: null, pendingAuthorization: null, account: null };
  const auth = token.authorization ?? {};
  const pick = (key: string) => (typeof auth[key] === 'string' ? (auth[key] as string) : undefined);
  return {
    state: token.state,
    expiresAt: token.expiresAt?.toISOString() ?? null,
    lastRefreshAt: token.lastRefreshAt?.toISOString() ?? null,
    lastError: token.lastErrorCode && token.lastErrorAt ? { code: token.lastErrorCode, message: token.lastErrorMessage ?? token.lastErrorCode, at: token.lastErrorAt.toISOString() } : null,
    pendingAuthorization: token.authorization ? { userCode: pick('userCode'), verificationUri: pick('verificationUri'), expiresAt: pick('expiresAt') } : null,
    // A deleted token keeps no account: "Not obtained" must not say who was signed in.
    account: token.state === 'not_obtained' ? null : token.accountUsername,
  };
}

/** The token a mailbox signs in with: its own, or its provider's app-only (client credentials) token. */
export function findMailboxToken(dataSource: DataSource, mailbox: { id: string; providerId: string }, appOnly: boolean): Promise<OAuthTokenEntity | null> {
  const repository = dataSource.getRepository(OAuthTokenEntity);
  return appOnly ? repository.findOneBy({ providerId: mailbox.providerId, mailboxId: IsNull() }) : repository.findOneBy({ mailboxId: mailbox.id });
}
