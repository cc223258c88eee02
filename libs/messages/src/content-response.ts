import { create as contentDisposition } from 'content-disposition';
import type { Response } from 'express';
import type { MessageContent } from './message.types';

/** `Content-Disposition` with a safe filename: ASCII fallback plus RFC 5987 `filename*` for anything else (RFC 6266). */
export function dispositionOf(content: MessageContent, fallbackName: string): string {
  const name = (content.filename ?? fallbackName).replace(/[\r\n"\\/]/g, '_').slice(0, 255) || fallbackName;
  return contentDisposition(name, { type: content.inline ? 'inline' : 'attachment' });
}

/**
 * Streams the content to the client. When the source fails midway the socket is destroyed: the client
 * sees an aborted response (no terminating chunk, or fewer bytes than Content-Length), never a complete one.
 * A client that goes away ends the source (and gives its IMAP session back, or logs it out).
 */
export function sendContent(res: Response, content: MessageContent, headers: Record<string, string>): void {
  res.status(200);
  res.setHeader('Content-Type', content.contentType);
  if (content.size !== null) res.setHeader('Content-Length', String(content.size));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'private, no-store');
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  const source = content.content;
  source.on('error', () => res.destroy());
  res.on('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  source.pipe(res);
}
