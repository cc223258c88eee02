import { INestApplication } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { strictJsonParser } from '@app/http';

/** The outbox route's path (the controller's prefix); body parsing is installed for POSTs to it. */
export const OUTBOX_ROUTE = 'v1/mailboxes/:id/outbox';

const OUTBOX_PATH = /^\/v1\/mailboxes\/[^/]+\/outbox$/;

/** JSON carries attachments in base64 (4 bytes for 3) next to the other fields. */
export function outboxJsonLimit(maxBytes: number): number {
  return Math.ceil((maxBytes * 4) / 3) + 1024 * 1024;
}

/**
 * Body parsing for `POST /v1/mailboxes/:id/outbox`, installed BEFORE the API's general parsers (which then
 * see the body as read): JSON up to what SEND_MAX_BYTES of attachments take in base64, and a raw
 * `message/rfc822` body up to SEND_MAX_BYTES as a Buffer. Larger bodies are a 413 from the general error
 * handler, as everywhere. Both are read whole in memory (the JSON parser needs it; streaming attachments
 * into storage is a later step).
 */
export function installOutboxBodyParsing(app: INestApplication, maxBytes: number): void {
  const json = strictJsonParser(outboxJsonLimit(maxBytes));
  const raw = express.raw({ limit: maxBytes, type: 'message/rfc822' });
  // Matched by hand, not by an Express path with :id: Express would decode the parameter here and answer a
  // malformed one itself, before the API's URL checks name it.
  const postsOnly =
    (middleware: (req: Request, res: Response, next: NextFunction) => void) => (req: Request, res: Response, next: NextFunction) =>
      req.method === 'POST' && OUTBOX_PATH.test(req.path) ? middleware(req, res, next) : next();
  app.use(postsOnly(json), postsOnly(raw));
}
