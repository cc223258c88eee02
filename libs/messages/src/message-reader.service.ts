import { Inject, Injectable, NotFoundException, OnModuleDestroy } from '@nestjs/common';
import { Clock, CLOCK } from '@app/clock';
import { APP_CONFIG, AppConfig } from '@app/config';
import { FolderRef, folderKey, mailboxTag, MalformedMessageRefError, MessageRefParts, parseMessageRef } from '@app/events';
import { ImapTimeouts } from '@app/imap';
import { OutboundPolicy } from '@app/outbound';
import { CredentialUnavailableError, MailboxSpec, mailboxSpecOf, MailboxSpecRepository, StoredMailboxCredentials } from '@app/sync';
import { GraphMessageReader, GraphMessageTarget } from './graph/graph-message.reader';
import { ImapConnectionPool } from './imap/imap-connection.pool';
import { ImapMessageReader, ImapMessageTarget } from './imap/imap-message.reader';
import { MailboxNotReadableException, MalformedRefException, MessageNotFoundException } from './message-errors';
import type { MessageContent, ParsedMessage } from './message.types';

/** An access token with less than this left is treated as expired (it could die on the way to the server). */
const MIN_TOKEN_VALIDITY_MS = 30_000;

type Located = { spec: MailboxSpec; folder: string | null; parts: MessageRefParts };

/**
 * Reads a message of a mailbox for the CRM, by the `ref` of its `mail.received` event: the parsed message,
 * its raw MIME, or one attachment, without marking it read. IMAP over a small per-mailbox session pool,
 * Graph over plain GETs; credentials as stored (never refreshed here: see StoredMailboxCredentials).
 */
@Injectable()
export class MessageReader implements OnModuleDestroy {
  readonly pool: ImapConnectionPool;
  private readonly imap: ImapMessageReader;
  private readonly graph: GraphMessageReader;

  constructor(
    private readonly specs: MailboxSpecRepository,
    private readonly credentials: StoredMailboxCredentials,
    outbound: OutboundPolicy,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    const timeoutMs = config.messages.timeoutMs;
    // A read waits for a free session half the server timeout: less than the silence after which a stalled
    // download's own session times out, so "busy" is answered while the holders are still there.
    const timeouts: ImapTimeouts = { connectMs: timeoutMs, socketMs: timeoutMs, maxIdleMs: config.messages.idleMs };
    this.pool = new ImapConnectionPool({ maxPerMailbox: config.messages.sessionsPerMailbox, idleMs: config.messages.idleMs, waitMs: timeoutMs / 2, timeouts, outbound });
    this.imap = new ImapMessageReader(this.pool);
    this.graph = new GraphMessageReader({ timeoutMs, outbound, caPem: config.oauth.caPem });
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.close();
  }

  async parsed(mailboxId: string, ref: string): Promise<ParsedMessage> {
    const located = await this.locate(mailboxId, ref);
    const fields = located.parts.kind === 'imap' ? await this.imap.parsed(await this.imapTarget(located)) : await this.graph.parsed(await this.graphTarget(located));
    const { subject, from, to, cc, bcc, replyTo, date, receivedAt, internetMessageId, inReplyTo, references, text, html, attachments } = fields;
    return { ref, folder: located.folder, subject, from, to, cc, bcc, replyTo, date, receivedAt, internetMessageId, inReplyTo, references, text, html, attachments };
  }

  async raw(mailboxId: string, ref: string): Promise<MessageContent> {
    const located = await this.locate(mailboxId, ref);
    return located.parts.kind === 'imap' ? this.imap.raw(await this.imapTarget(located)) : this.graph.raw(await this.graphTarget(located));
  }

  async attachment(mailboxId: string, ref: string, attachmentId: string): Promise<MessageContent> {
    const located = await this.locate(mailboxId, ref);
    if (attachmentId.length > 512) throw new MalformedRefException('attachmentId: longer than 512 characters');
    return located.parts.kind === 'imap'
      ? this.imap.attachment(await this.imapTarget(located), attachmentId)
      : this.graph.attachment(await this.graphTarget(located), attachmentId);
  }

  private async locate(mailboxId: string, ref: string): Promise<Located> {
    let parts: MessageRefParts;
    try {
      parts = parseMessageRef(ref);
    } catch (error) {
      if (error instanceof MalformedMessageRefError) throw new MalformedRefException(error.message);
      throw error;
    }
    const found = await this.specs.mailbox(mailboxId);
    if (!found) throw new NotFoundException(`Mailbox ${mailboxId} not found`);
    const spec = mailboxSpecOf(found.row, found.folders);
    const kind = spec.kind === 'graph' ? 'graph' : 'imap';
    if (parts.mailboxTag !== mailboxTag(spec.id) || parts.kind !== kind) throw new MessageNotFoundException('the ref belongs to another mailbox');
    return { spec, parts, folder: this.folderOf(spec, parts.folder) };
  }

  private folderOf(spec: MailboxSpec, folder: FolderRef): string | null {
    if ('path' in folder) return folder.path;
    return spec.folders.find((f) => folderKey(f.path) === folder.key)?.path ?? null;
  }

  private async credential(spec: MailboxSpec) {
    try {
      return await this.credentials.current(spec, this.clock.now(), MIN_TOKEN_VALIDITY_MS);
    } catch (error) {
      if (error instanceof CredentialUnavailableError) throw new MailboxNotReadableException(error.code, error.message);
      throw error;
    }
  }

  private async imapTarget({ spec, parts, folder }: Located): Promise<ImapMessageTarget> {
    if (parts.kind !== 'imap') throw new Error('not an IMAP ref');
    if (!folder) throw new MessageNotFoundException('the folder of the ref is no longer one of the mailbox folders');
    const { credential } = await this.credential(spec);
    return { mailboxId: spec.id, endpoint: spec.endpoint, credential, folder, uidValidity: parts.uidValidity, uid: parts.uid };
  }

  private async graphTarget({ spec, parts }: Located): Promise<GraphMessageTarget> {
    if (parts.kind !== 'graph') throw new Error('not a Graph ref');
    if (spec.authMethod !== 'oauth2') throw new MailboxNotReadableException('GRAPH_NEEDS_OAUTH', 'Microsoft Graph needs OAuth 2.0');
    const { credential } = await this.credential(spec);
    if (credential.kind !== 'oauth2') throw new MailboxNotReadableException('GRAPH_NEEDS_OAUTH', 'Microsoft Graph needs an OAuth access token');
    const accessToken = credential.accessToken;
    return { baseUrl: spec.graphBaseUrl!, user: spec.login, messageId: parts.messageId, accessToken: async () => accessToken };
  }
}
