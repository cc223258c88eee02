import { INestApplication } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { errorBody } from '@app/http';

/** Where both receiver endpoints live (the controller's route prefix). */
export const GRAPH_RECEIVER_ROUTE = 'v1/graph';

/**
 * Graph batches notifications, so a POST can be larger than the API's general limit (HTTP_BODY_LIMIT,
 * 256 kb by default); beyond this one the answer is 413.
 */
export const GRAPH_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * body-parser reports a body that is not what its Content-Encoding says (zlib: "incorrect header check",
 * "unexpected end of file") as a bare 400 without a `type`; left alone it reached the generic handlers as
 * an unknown error and was answered 500. Every typed body-parser error is left to the API's own handler.
 */
function isUndecodableBody(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { status, type } = error as { status?: unknown; type?: unknown };
  return status === 400 && type === undefined;
}

function answerUndecodableBody(error: unknown, req: Request, res: Response, next: NextFunction): void {
  if (!isUndecodableBody(error)) return next(error);
  const encoding = String(req.headers['content-encoding'] ?? '').slice(0, 40);
  res.status(400).json(errorBody(400, `Content-Encoding: the body is not valid ${JSON.stringify(encoding)} data`));
}

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
    answerUndecodableBody,
  );
}
