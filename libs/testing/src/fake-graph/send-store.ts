import { randomBytes, randomUUID } from 'node:crypto';
import { newRegularMessageId } from './graph-ids';
import type { FakeGraphSentMail, FakeGraphUploadChunk } from './types';

/** A draft created through POST …/messages, until it is sent or deleted. */
export interface Draft {
  id: string;
  mailboxId: string;
  /** The message resource as the client gave it (JSON), or null for a draft created from MIME. */
  message: Record<string, unknown> | null;
  mime: Buffer | null;
  attachments: DraftAttachment[];
}

export interface DraftAttachment {
  id: string;
  name: string;
  contentType: string;
  content: Buffer;
  isInline: boolean;
  contentId?: string;
  /** Through an upload session (`uploadSession`) or one POST (`post`). */
  via: 'post' | 'uploadSession';
}

/** An upload session: the bytes arrive in ranges, in order, to `uploadUrl` (no bearer token). */
export interface UploadSession {
  token: string;
  draftId: string;
  mailboxId: string;
  name: string;
  contentType: string;
  isInline: boolean;
  contentId?: string;
  size: number;
  received: Buffer[];
  receivedBytes: number;
  expiresAt: number;
}

/** Drafts, upload sessions and what was sent, for the send routes and the tests. */
export class SendStore {
  readonly drafts = new Map<string, Draft>();
  readonly sessions = new Map<string, UploadSession>();
  readonly sent: FakeGraphSentMail[] = [];
  readonly chunks: FakeGraphUploadChunk[] = [];

  newDraft(mailboxId: string, message: Record<string, unknown> | null, mime: Buffer | null): Draft {
    const draft: Draft = { id: newRegularMessageId(), mailboxId, message, mime, attachments: [] };
    this.drafts.set(draft.id, draft);
    return draft;
  }

  newSession(draft: Draft, item: Omit<UploadSession, 'token' | 'draftId' | 'mailboxId' | 'received' | 'receivedBytes'>): UploadSession {
    const session: UploadSession = { ...item, token: `${randomUUID()}.${randomBytes(24).toString('base64url')}`, draftId: draft.id, mailboxId: draft.mailboxId, received: [], receivedBytes: 0 };
    this.sessions.set(session.token, session);
    return session;
  }

  newAttachmentId(): string {
    return `AAMkAD${randomBytes(40).toString('base64url')}BEgAQA=`;
  }
}
