import { INestApplication } from '@nestjs/common';
import express, { Request } from 'express';

/** Where both receiver endpoints live (the controller's route prefix). */
export const GRAPH_RECEIVER_ROUTE = 'v1/graph';

/**
 * Graph batches notifications, so a POST can be larger than the API's general limit (HTTP_BODY_LIMIT,
 * 256 kb by default); beyond this one the answer is 413.
 */
export const GRAPH_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Body parsing for the receiver, installed BEFORE the API's general parsers (installBodyParsing), which
 * then see the body as read and skip it; their error handler still answers 400/413 for this one.
 * The body is read as JSON whatever its Content-Type: it is checked field by field afterwards anyway, and
 * a body that is not JSON is a 400 rather than an empty notification. Validation requests (text/plain,
 * `?validationToken=`) are not read at all.
 */
export function installGraphBodyParsing(app: INestApplication): void {
  app.use(
    `/${GRAPH_RECEIVER_ROUTE}`,
    express.json({ limit: GRAPH_BODY_LIMIT_BYTES, strict: true, type: (req) => (req as Request).query?.validationToken === undefined }),
  );
}
