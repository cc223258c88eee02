import type { Response } from 'express';
import { MalformedNotificationError } from './intake-errors';

/**
 * The token of Graph's validation request (`POST …?validationToken=…` when a subscription is created), or
 * undefined for a notification POST. Express has already URL-decoded the query: it must not be decoded again.
 */
export function validationTokenOf(query: unknown): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const token = (query as Record<string, unknown>).validationToken;
  if (token === undefined || typeof token === 'string') return token;
  throw new MalformedNotificationError('validationToken: must appear once in the query string');
}

/**
 * Echoes the token as Graph requires: 200, text/plain, the decoded token byte for byte (no JSON quoting,
 * no HTML escaping). nosniff keeps a browser from rendering an attacker's "token" as a page.
 */
export function answerValidation(res: Response, token: string): void {
  res
    .status(200)
    .set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' })
    .send(token);
}
