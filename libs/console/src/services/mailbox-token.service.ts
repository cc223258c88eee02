import { Injectable } from '@nestjs/common';
import { MailboxesService, MailboxStatusService } from '@app/mailboxes';
import { AuthorizationCodeFlowService, DeviceCodeFlowService, TokenImportService } from '@app/oauth';
import type { TokenPanelView } from '../views/mailbox-token.view';

/**
 * The token panel's buttons, doing what the API's OAuth routes do with the same service instances
 * (so a device-code poll started here is the one Delete cancels), and what the panel shows.
 */
@Injectable()
export class MailboxTokenService {
  constructor(
    private readonly mailboxes: MailboxesService,
    private readonly statuses: MailboxStatusService,
    private readonly deviceCodes: DeviceCodeFlowService,
    private readonly authorizationCodes: AuthorizationCodeFlowService,
    private readonly tokens: TokenImportService,
  ) {}

  async panel(mailboxId: string, csrf: string): Promise<TokenPanelView> {
    const [mailbox, status] = await Promise.all([this.mailboxes.get(mailboxId), this.statuses.status(mailboxId)]);
    return { mailbox, status, csrf };
  }

  async email(mailboxId: string): Promise<string> {
    return (await this.mailboxes.get(mailboxId)).email;
  }

  /** Starts the device-code flow; the API process polls the identity provider until the person signs in. */
  async startDeviceCode(mailboxId: string): Promise<void> {
    await this.deviceCodes.start(mailboxId);
  }

  /** The consent URL of an authorization-code sign-in whose callback leads back to the console. */
  browserSignInUrl(mailboxId: string): Promise<string> {
    return this.authorizationCodes.authorizationUrl(mailboxId, { returnTo: 'console' });
  }

  deleteToken(mailboxId: string): Promise<void> {
    return this.tokens.remove(mailboxId);
  }
}
