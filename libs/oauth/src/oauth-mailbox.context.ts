import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox } from '@app/crypto';
import { MailboxEntity, OAuthTokenEntity, ProviderEntity } from '@app/persistence';
import { OAuthTokenStore } from './oauth-token.store';
import { OAuthSettings, oauthSettingsOf } from './oauth-settings';

export interface OAuthMailboxContext {
  mailbox: MailboxEntity;
  provider: ProviderEntity;
  settings: OAuthSettings;
  token: OAuthTokenEntity;
}

/** Loads what a per-mailbox OAuth operation needs, refusing mailboxes that do not sign in with OAuth. */
@Injectable()
export class OAuthMailboxContextLoader {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly store: OAuthTokenStore,
    private readonly secrets: SecretBox,
  ) {}

  async load(mailboxId: string): Promise<OAuthMailboxContext> {
    const mailbox = await this.dataSource.getRepository(MailboxEntity).findOneBy({ id: mailboxId });
    if (!mailbox) throw new NotFoundException(`Mailbox ${mailboxId} not found`);
    const provider = await this.dataSource.getRepository(ProviderEntity).findOneByOrFail({ id: mailbox.providerId });
    if (provider.authMethod !== 'oauth2') {
      throw new ConflictException(`Mailbox ${mailbox.email} uses password authentication (provider "${provider.name}"); OAuth does not apply`);
    }
    if (provider.oauthAppOnly) {
      throw new ConflictException(`Provider "${provider.name}" uses app-only access (client credentials): its mailboxes need no sign-in`);
    }
    const token = await this.store.forMailbox(mailbox.id, provider.id);
    return { mailbox, provider, settings: oauthSettingsOf(provider, this.secrets), token };
  }
}

/** The signed-in account must be the mailbox (its address, or its login for manual login formats). */
export function accountMatchesMailbox(username: string | null, mailbox: MailboxEntity): boolean {
  if (!username) return false;
  const account = username.trim().toLowerCase();
  return account === mailbox.email.toLowerCase() || account === mailbox.login.toLowerCase();
}
