import { BadRequestException, Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '@app/config';
import { SecretBox } from '@app/crypto';
import { FailureCode } from '@app/failures';
import { OAuthTokenEntity } from '@app/persistence';
import { Clock, CLOCK } from '@app/clock';
import { IdentityClients } from '../identity-clients';
import { accountMatchesMailbox, OAuthMailboxContextLoader } from '../oauth-mailbox.context';
import { OAuthTokenStore } from '../oauth-token.store';
import { IdentityProviderUnreachableException, isUnreachable, refusalOrUnreachable } from '../identity-unreachable';
import { classifyTokenError } from '../token-errors';

const STATE_LIFETIME_MS = 10 * 60_000;
const STATE_CONTEXT = 'oauth-state';

interface StatePayload {
  /** One id per sign-in attempt; the token row remembers it until the callback consumes it. */
  sid: string;
  mid: string;
  exp: number;
  /** Set when the admin console started the sign-in: the callback then leads the person back to it. */
  ret?: SignInReturn;
}

/** Where a person who signed in goes next: only named places of ours, never a URL from a request. */
export type SignInReturn = 'console';

export interface CallbackQuery {
  code?: string;
  state?: string;
  error?: string;
  error_description?: string;
}

export interface CallbackOutcome {
  status: number;
  title: string;
  message: string;
  /** The mailbox the sign-in was for and where its starter wants the person back (absent for a state we could not open). */
  mailboxId?: string;
  returnTo?: SignInReturn;
}

/**
 * Authorization code sign-in with PKCE. The `state` is sealed by the SecretBox (so it cannot be forged or
 * read), expires after 10 minutes and is single-use: the token row holds the attempt's id and the callback
 * consumes it under a row lock. The signed-in account must be the mailbox, or nothing is stored.
 */
@Injectable()
export class AuthorizationCodeFlowService {
  private readonly logger = new Logger(AuthorizationCodeFlowService.name);

  constructor(
    private readonly contexts: OAuthMailboxContextLoader,
    private readonly clients: IdentityClients,
    private readonly store: OAuthTokenStore,
    private readonly secrets: SecretBox,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The provider's consent URL for this mailbox; `returnTo` is sealed into the state with the rest. */
  async authorizationUrl(mailboxId: string, options: { returnTo?: SignInReturn } = {}): Promise<string> {
    const context = await this.contexts.load(mailboxId);
    const sid = randomUUID();
    const verifier = randomBytes(32).toString('base64url');
    const nonce = randomBytes(16).toString('base64url');
    const expiresAt = this.clock.now() + STATE_LIFETIME_MS;
    const state = this.secrets.encrypt(JSON.stringify({ sid, mid: mailboxId, exp: expiresAt, ...(options.returnTo ? { ret: options.returnTo } : {}) } satisfies StatePayload), STATE_CONTEXT);
    let url: string;
    try {
      // Building the URL reads the authority's OpenID metadata (Microsoft): the identity provider may be down.
      url = await this.clients.for(context.settings).authorizationUrl(context.settings, {
        redirectUri: this.config.oauth.redirectUri,
        state,
        nonce,
        codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
        loginHint: context.mailbox.email,
      });
    } catch (error) {
      const refusal = refusalOrUnreachable(error);
      throw new BadRequestException(`The identity provider refused the authorization request: ${refusal.message}`);
    }
    await this.store.transition(context.token.id, 'authorization_started', {
      authorization: {
        kind: 'authorization_code',
        sid,
        nonce,
        codeVerifier: this.secrets.encrypt(verifier, `${STATE_CONTEXT}:${sid}`),
        expiresAt: new Date(expiresAt).toISOString(),
      },
    });
    return url;
  }

  async callback(query: CallbackQuery): Promise<CallbackOutcome> {
    const payload = this.openState(query.state);
    const outcome = await this.complete(payload, query);
    return { ...outcome, mailboxId: payload.mid, ...(payload.ret === 'console' ? { returnTo: payload.ret } : {}) };
  }

  private async complete(payload: StatePayload, query: CallbackQuery): Promise<CallbackOutcome> {
    const context = await this.contexts.load(payload.mid);
    const pending = await this.store.withLockedToken(context.token.id, async (token, manager) => {
      const auth = token.authorization;
      if (auth?.kind !== 'authorization_code' || auth.sid !== payload.sid || auth.consumedAt) return null;
      token.authorization = { ...auth, consumedAt: new Date(this.clock.now()).toISOString() };
      await manager.save(OAuthTokenEntity, token);
      return auth;
    });
    if (!pending) return this.refuse(400, 'This sign-in link was already used or replaced by a newer one. Start the sign-in again.');
    const ownAttempt = (token: OAuthTokenEntity) => token.authorization?.sid === payload.sid;

    if (query.error || !query.code) {
      const message = query.error_description?.split(/\r?\n/)[0] ?? query.error ?? 'no authorization code was returned';
      await this.store.transition(context.token.id, 'authorization_failed', { authorization: null, error: { code: query.error ?? FailureCode.NoAuthorizationCode, message } }, { guard: ownAttempt });
      return this.refuse(400, `The sign-in did not complete: ${message}`);
    }

    let grant;
    try {
      grant = await this.clients.for(context.settings).redeemCode(context.settings, {
        code: query.code,
        codeVerifier: this.secrets.decrypt(String(pending.codeVerifier), `${STATE_CONTEXT}:${payload.sid}`),
        redirectUri: this.config.oauth.redirectUri,
        state: query.state!,
        nonce: String(pending.nonce),
      });
    } catch (error) {
      const classified = classifyTokenError(error);
      await this.store.transition(context.token.id, 'authorization_failed', { authorization: null, error: { code: classified.code, message: classified.message } }, { guard: ownAttempt });
      this.logger.warn({ mailboxId: payload.mid, code: classified.code }, `Mailbox ${payload.mid}: code redemption failed (${classified.code})`);
      if (isUnreachable(classified)) return this.refuse(IdentityProviderUnreachableException.status, new IdentityProviderUnreachableException(classified.code).message);
      return this.refuse(400, `The identity provider did not accept the sign-in: ${classified.message}`);
    }

    if (!accountMatchesMailbox(grant.username, context.mailbox)) {
      const message = `Signed in as ${grant.username ?? 'an unknown account'}, but this mailbox is ${context.mailbox.email}. Nothing was stored; sign in with ${context.mailbox.email}.`;
      await this.store.transition(context.token.id, 'authorization_failed', { authorization: null, error: { code: FailureCode.AccountMismatch, message } }, { guard: ownAttempt });
      return this.refuse(400, message);
    }
    await this.store.transition(context.token.id, 'authorization_completed', { grant, newGrant: true, authorization: null, error: null }, { guard: ownAttempt });
    this.logger.log({ mailboxId: payload.mid }, `Mailbox ${payload.mid}: signed in through the authorization code flow`);
    return { status: 200, title: 'Signed in', message: `Signed in as ${grant.username}. You can close this tab.` };
  }

  private openState(state: string | undefined): StatePayload {
    if (!state) throw new BadRequestException('state: is missing from the callback');
    let payload: StatePayload;
    try {
      payload = JSON.parse(this.secrets.decrypt(state, STATE_CONTEXT)) as StatePayload;
    } catch {
      throw new BadRequestException('state: is not one this service issued');
    }
    if (payload.exp < this.clock.now()) throw new BadRequestException('state: the sign-in link expired; start the sign-in again');
    return payload;
  }

  private refuse(status: number, message: string): CallbackOutcome {
    return { status, title: 'Sign-in failed', message };
  }
}
