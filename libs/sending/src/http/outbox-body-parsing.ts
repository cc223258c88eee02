import { INestApplication } from '@nestjs/common';
import { NextFunction, Request, Response } from 'express';
import { errorBody } from '@app/http';

/** The outbox route's path (the controller's prefix). */
export const OUTBOX_ROUTE = 'v1/mailboxes/:id/outbox';

/** `POST …/outbox`, matched by hand: Express would decode `:id` here and answer a malformed one itself, before the API's URL checks name it. */
export const OUTBOX_PATH = /^\/v1\/mailboxes\/[^/]+\/outbox$/;

/** How the outbox reads a POST's body; set on the request by installOutboxBodyParsing. */
export type OutboxBodyKind = 'json' | 'raw';

export interface OutboxRequest extends Request {
  outboxBody?: OutboxBodyKind;
}

/** JSON carries attachments in base64 (4 bytes for 3) next to the other fields. */
export function outboxJsonLimit(maxBytes: number): number {
  return Math.ceil((maxBytes * 4) / 3) + 1024 * 1024;
}

/**
 * `POST /v1/mailboxes/:id/outbox` reads its own body as a stream (libs/sending intake/): this only says
 * how (JSON, or a raw `message/rfc822`) and refuses any other Content-Type (415) or a JSON charset other
 * than UTF-8, as the general parsers do for other routes. The API's general parsers skip the route
 * (api.app.ts passes OUTBOX_PATH to installBodyParsing), so the body is still unread when the controller
 * gets it.
 */
export function installOutboxBodyParsing(app: INestApplication): void {
  app.use((req: OutboxRequest, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || !OUTBOX_PATH.test(req.path)) return next();
    if (req.is('message/rfc822')) {
      req.outboxBody = 'raw';
      return next();
    }
    const announcedBytes = Number(req.headers['content-length'] ?? 0);
    const hasContent = req.headers['transfer-encoding'] !== undefined || announcedBytes > 0;
    if (hasContent && !req.is('application/json')) {
      res.status(415).json(errorBody(415, `Content-Type must be application/json or message/rfc822 (got ${JSON.stringify((req.headers['content-type'] ?? 'none').slice(0, 100))})`));
      return;
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      res.status(415).json(errorBody(415, 'Content-Type charset is not supported: send UTF-8'));
      return;
    }
    req.outboxBody = 'json';
    next();
  });
}
