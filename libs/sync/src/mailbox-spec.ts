import { AuthMethod } from '@app/persistence';
import { ImapEndpoint } from '@app/imap';
import { MailboxRef } from '@app/events';

/** Everything a runner needs to know about a mailbox, loaded once per (re)start. */
export interface MailboxSpec {
  id: string;
  email: string;
  externalId: string | null;
  login: string;
  providerId: string;
  authMethod: AuthMethod;
  appOnly: boolean;
  endpoint: ImapEndpoint;
  folders: { id: string; path: string }[];
  backfillSince: Date | null;
  /** Changes whenever anything the runner depends on changes (mailbox, provider, token grant or state). */
  fingerprint: string;
}

export function refOf(spec: MailboxSpec): MailboxRef {
  return { id: spec.id, email: spec.email, externalId: spec.externalId };
}
