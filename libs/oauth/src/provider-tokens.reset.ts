import { EntityManager, IsNull, Not } from 'typeorm';
import { OAuthTokenEntity } from '@app/persistence';
import { forgetGrant } from './oauth-token.store';
import { nextTokenState } from './token-state';

export interface ProviderTokensForgotten {
  /** The provider's app-only token held a grant (or a pending one) that is gone now. */
  appOnly: boolean;
  /** Mailbox tokens that held a grant (or a pending one) and are gone now. */
  mailboxes: number;
}

/**
 * In the caller's transaction (the provider row is locked there): takes the provider's tokens through the
 * `deleted` transition — state not_obtained, tokens and pending sign-ins gone — and records why on each,
 * for the mailbox status. Rows stay, so their generation (part of event ids) keeps counting.
 * `appOnly`: the provider's client-credentials token; `mailboxes`: every mailbox's own token.
 */
export async function forgetProviderTokens(
  manager: EntityManager,
  providerId: string,
  which: { appOnly: boolean; mailboxes: boolean },
  reason: { code: string; message: string },
): Promise<ProviderTokensForgotten> {
  const forgotten: ProviderTokensForgotten = { appOnly: false, mailboxes: 0 };
  if (!which.appOnly && !which.mailboxes) return forgotten;
  const mailboxId = which.appOnly && which.mailboxes ? undefined : which.appOnly ? IsNull() : Not(IsNull());
  const tokens = await manager.find(OAuthTokenEntity, { where: { providerId, ...(mailboxId ? { mailboxId } : {}) }, lock: { mode: 'pessimistic_write' } });
  const now = new Date();
  for (const token of tokens) {
    if (token.state === 'not_obtained' && token.accessTokenEncrypted === null && token.refreshTokenEncrypted === null) continue;
    token.state = nextTokenState(token.state, 'deleted');
    forgetGrant(token);
    token.lastErrorCode = reason.code;
    token.lastErrorMessage = reason.message;
    token.lastErrorAt = now;
    await manager.save(OAuthTokenEntity, token);
    if (token.mailboxId === null) forgotten.appOnly = true;
    else forgotten.mailboxes += 1;
  }
  return forgotten;
}
