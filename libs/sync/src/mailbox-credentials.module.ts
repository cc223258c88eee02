import { Module } from '@nestjs/common';
import { MailboxCredentialRepository } from './mailbox-credential.repository';
import { MailboxCredentials } from './mailbox-credentials';
import { MailboxSpecRepository } from './mailbox-spec.repository';

/**
 * A mailbox's spec and credentials, one instance of each per process: the listener's runners and its send
 * worker resolve (and, under the mailbox's lease, refresh) tokens through the same MailboxCredentials, and
 * whatever wraps the spec repository (a test's spy, a cache) is the one every user sees. Needs
 * OAuthRefreshModule.
 */
@Module({
  providers: [MailboxSpecRepository, MailboxCredentialRepository, MailboxCredentials],
  exports: [MailboxSpecRepository, MailboxCredentialRepository, MailboxCredentials],
})
export class MailboxCredentialsModule {}
