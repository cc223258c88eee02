import { BadRequestException, Injectable } from '@nestjs/common';
import { IdentityClients } from '../identity-clients';
import { accountMatchesMailbox, OAuthMailboxContextLoader } from '../oauth-mailbox.context';
import { OAuthTokenStore } from '../oauth-token.store';
import { refusalOrUnreachable } from '../identity-unreachable';
import { TokenStatus, tokenStatusOf } from '../token-status';
import { DeviceCodeFlowService } from './device-code.flow';

/**
 * Tokens the CRM already holds (PUT /token) and forgetting them (DELETE /token). An imported refresh
 * token is redeemed once at import: that proves it works, loads the client library's cache and yields a
 * fresh access token; if the identity provider refuses it, nothing is stored.
 */
@Injectable()
export class TokenImportService {
  constructor(
    private readonly contexts: OAuthMailboxContextLoader,
    private readonly clients: IdentityClients,
    private readonly store: OAuthTokenStore,
    private readonly deviceCodes: DeviceCodeFlowService,
  ) {}

  async import(mailboxId: string, refreshToken: string): Promise<TokenStatus> {
    const context = await this.contexts.load(mailboxId);
    let grant;
    try {
      grant = await this.clients.for(context.settings).redeemRefreshToken(context.settings, refreshToken);
    } catch (error) {
      const refusal = refusalOrUnreachable(error);
      throw new BadRequestException(`refreshToken: the identity provider refused it: ${refusal.message}`);
    }
    if (grant.username && !accountMatchesMailbox(grant.username, context.mailbox)) {
      throw new BadRequestException(`refreshToken: it belongs to ${grant.username}, not to ${context.mailbox.email}; nothing was stored`);
    }
    this.deviceCodes.cancel(mailboxId);
    const result = await this.store.transition(context.token.id, 'tokens_imported', { grant, newGrant: true, authorization: null, error: null });
    return tokenStatusOf(result?.token ?? null);
  }

  async remove(mailboxId: string): Promise<void> {
    const context = await this.contexts.load(mailboxId);
    this.deviceCodes.cancel(mailboxId);
    await this.store.transition(context.token.id, 'deleted');
  }
}
