import { Readable, Transform } from 'node:stream';
import { FailureCode } from '@app/failures';
import { GraphApiError, GraphHttp, GraphMessageReads, GraphStreamResponse, isGraphApiError } from '@app/graph';
import { OutboundPolicy } from '@app/outbound';
import { AttachmentNotFoundException, MailboxNotReadableException, MailServerFailedException, MailServerTimeoutException, MessageNotFoundException } from '../message-errors';
import type { MessageContent, MimeFields } from '../message.types';
import { parseMime } from '../mime-parse';
import { isTimeout } from '../read-failure';

export interface GraphMessageTarget {
  baseUrl: string;
  user: string;
  messageId: string;
  /** The current access token (the API never refreshes: only the mailbox's owner does). */
  accessToken: () => Promise<string>;
}

export interface GraphReaderOptions {
  timeoutMs: number;
  outbound: OutboundPolicy;
  caPem?: string;
}

/**
 * Reads Graph messages for the API. Parsed view: Graph's `/$value` MIME through the same mailparser path
 * as IMAP (one parser for both providers: the same text/html/address/header rules whatever the provider),
 * plus the message's receivedDateTime; the attachments are Graph's own ids (what `/attachments/{id}/$value`
 * takes) matched in order with the MIME parts for contentId. GETs only: `isRead` is never touched.
 */
export class GraphMessageReader {
  constructor(private readonly options: GraphReaderOptions) {}

  async parsed(target: GraphMessageTarget): Promise<MimeFields & { receivedAt: string | null }> {
    return this.withReads(target, async (reads) => {
      const [info, listed] = await Promise.all([reads.info(target.messageId), reads.attachments(target.messageId)]);
      const fields = await parseMime(this.body(await reads.mime(target.messageId), null));
      // Exchange lists a message's attachments in MIME order: the i-th listed is the i-th MIME attachment.
      const fromMime = fields.attachments;
      const attachments = listed.map((graph, i) => ({
        id: graph.id,
        filename: graph.name,
        contentType: graph.contentType ?? fromMime[i]?.contentType ?? 'application/octet-stream',
        size: fromMime[i]?.size ?? graph.size ?? 0,
        contentId: fromMime[i]?.contentId ?? null,
        inline: graph.isInline,
      }));
      const received = info.receivedDateTime ? new Date(info.receivedDateTime) : null;
      return { ...fields, attachments, receivedAt: received && !Number.isNaN(received.getTime()) ? received.toISOString() : null };
    });
  }

  async raw(target: GraphMessageTarget): Promise<MessageContent> {
    return this.withReads(target, async (reads) => {
      const response = await reads.mime(target.messageId);
      const length = Number(response.headers.get('content-length'));
      const size = Number.isInteger(length) && length >= 0 && response.headers.get('content-length') !== null ? length : null;
      return { content: this.body(response, size), contentType: 'message/rfc822', size, filename: null, inline: false };
    });
  }

  async attachment(target: GraphMessageTarget, attachmentId: string): Promise<MessageContent> {
    return this.withReads(target, async (reads) => {
      let info;
      try {
        info = await reads.attachment(target.messageId, attachmentId);
      } catch (error) {
        if (isGraphApiError(error, 'not_found') || isGraphApiError(error, 'invalid_request')) {
          // Graph answers 404 for both: is it the message or the attachment that is gone?
          await reads.info(target.messageId);
          throw new AttachmentNotFoundException(attachmentId);
        }
        throw error;
      }
      const response = await reads.attachmentContent(target.messageId, attachmentId);
      const length = response.headers.get('content-length');
      const size = length !== null && /^\d+$/.test(length) ? Number(length) : null;
      return { content: this.body(response, size), contentType: info.contentType ?? 'application/octet-stream', size, filename: info.name, inline: info.isInline };
    });
  }

  private async withReads<T>(target: GraphMessageTarget, work: (reads: GraphMessageReads) => Promise<T>): Promise<T> {
    const http = new GraphHttp({
      baseUrl: target.baseUrl,
      user: target.user,
      // A 401 asks once more with forceRefresh: the API has no other token to give (only the owner refreshes), so the second 401 stands.
      accessToken: () => target.accessToken(),
      outbound: this.options.outbound,
      caPem: this.options.caPem,
      timeoutMs: this.options.timeoutMs,
      maxRetries: 2,
      maxRetryAfterMs: 5_000,
    });
    try {
      return await work(new GraphMessageReads(http, target.baseUrl, target.user));
    } catch (error) {
      throw graphReadError(error);
    } finally {
      // Not awaited: closing the agent waits for a streamed body still in flight.
      void http.close().catch(() => undefined);
    }
  }

  /** The body as a Node stream that errors (never just ends) when Graph stops: idle timeout, short of Content-Length, aborted. */
  private body(response: GraphStreamResponse, size: number | null): Readable {
    const source = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    const timeoutMs = this.options.timeoutMs;
    let bytes = 0;
    let timer: NodeJS.Timeout | undefined;
    const out = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        arm();
        done(null, chunk);
      },
      flush(done) {
        clearTimeout(timer);
        if (size !== null && bytes !== size) return done(new Error(`Graph ended the content after ${bytes} of ${size} bytes`));
        done();
      },
    });
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => out.destroy(new Error(`Graph sent nothing for ${timeoutMs / 1000} s`)), timeoutMs);
      timer.unref?.();
    };
    arm();
    source.on('error', (error) => out.destroy(error));
    out.on('close', () => {
      clearTimeout(timer);
      if (!source.readableEnded) {
        response.abort();
        source.destroy();
      }
    });
    return source.pipe(out);
  }
}

/** Graph's answer → the API's: 404 gone, 409 token refused or access denied (with the code), 504 timeout, 502 otherwise. */
export function graphReadError(error: unknown): unknown {
  if (error instanceof MessageNotFoundException || error instanceof AttachmentNotFoundException || error instanceof MailboxNotReadableException) return error;
  if (error instanceof GraphApiError) {
    if (error.kind === 'not_found' || (error.kind === 'invalid_request' && /malformed|invalid.*id/i.test(error.code))) return new MessageNotFoundException(`Graph answered ${error.status} ${error.code}`);
    if (error.kind === 'auth') return new MailboxNotReadableException(FailureCode.GraphUnauthorized, error.message);
    if (error.kind === 'forbidden') return new MailboxNotReadableException(FailureCode.GraphAccessDenied, error.message);
    if (error.kind === 'throttled') return new MailServerFailedException(`Graph is throttling the mailbox (${error.code})`);
    if (error.kind === 'network' && isTimeout(error.code, error.message)) return new MailServerTimeoutException(error.message);
    if (error.status === 504) return new MailServerTimeoutException(error.message);
    return new MailServerFailedException(`${error.message} (${error.code})`);
  }
  if (error instanceof Error && /outbound/i.test(error.name)) return new MailboxNotReadableException(FailureCode.OutboundAddressRefused, error.message);
  return error;
}
