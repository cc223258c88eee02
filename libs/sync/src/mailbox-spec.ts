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
  /** `imap`: IDLE sessions; `graph`: Microsoft Graph subscriptions and delta. */
  kind: 'imap' | 'graph';
  /** Graph only: the API base, e.g. https://graph.microsoft.com/v1.0. */
  graphBaseUrl: string | null;
  authMethod: AuthMethod;
  appOnly: boolean;
  /** IMAP server; for Graph its host is the Graph host (connection pacing is per host). */
  endpoint: ImapEndpoint;
  folders: { id: string; path: string }[];
  backfillSince: Date | null;
  /** Changes whenever anything the runner depends on changes (mailbox, provider, token grant or state). */
  fingerprint: string;
}

export function refOf(spec: MailboxSpec): MailboxRef {
  return { id: spec.id, email: spec.email, externalId: spec.externalId };
}
