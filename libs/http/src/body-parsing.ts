import { INestApplication } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { errorBody, toErrorBody } from './http-exception.filter';
import { jsonBodyProblem, stringProblem } from './json-hygiene';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A verify failure body-parser turns into a 400 (its default for verify errors is 403). */
function invalidUtf8(): Error {
  return Object.assign(new Error('Request body is not valid UTF-8'), { status: 400, expose: true, type: 'entity.verify.failed' });
}

/** The API's JSON parser: strict JSON, UTF-8 only (invalid bytes are a 400, not silently replaced), up to `limit`. */
export function strictJsonParser(limit: string | number): ReturnType<typeof express.json> {
  return express.json({
    limit,
    strict: true,
    type: 'application/json',
    verify: (_req, _res, buffer) => {
      try {
        STRICT_UTF8.decode(buffer);
      } catch {
        throw invalidUtf8();
      }
    },
  });
}

/**
 * Only `application/json` reaches a JSON route: a form post (`application/x-www-form-urlencoded`,
 * `multipart/form-data`, `text/plain`) is what a plain HTML form on any web page can send from a browser
 * inside the network without a CORS preflight, so accepting it would let such a page drive the API.
 */
function requireJson(req: Request, res: Response, next: NextFunction): void {
  const announcedBytes = Number(req.headers['content-length'] ?? 0);
  const hasContent = req.headers['transfer-encoding'] !== undefined || announcedBytes > 0;
  if (req.body !== undefined || !hasContent || req.is(['application/json'])) return next();
  res.status(415).json(errorBody(415, `Content-Type must be application/json (got ${JSON.stringify((req.headers['content-type'] ?? 'none').slice(0, 100))})`));
}

/**
 * JSON is UTF-8 (RFC 8259 §8.1). body-parser would decode a body announced as UTF-16 or UTF-32, and
 * UTF-16 text of ASCII is also valid UTF-8 byte by byte, so the bytes alone cannot tell: refuse the label.
 */
function requireUtf8Charset(req: Request, res: Response, next: NextFunction): void {
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return next();
  res.status(415).json(errorBody(415, 'Content-Type charset is not supported: send UTF-8'));
}

/** Whether every percent-escape of the path decodes to UTF-8 (`%ZZ`, `%ED%A0%80` do not). */
function decodablePath(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * NUL characters and lone surrogates in a query parameter, named; the path's own NULs and broken
 * percent-escapes too (Express' own message for those, "Failed to decode param", names no field).
 */
function checkUrl(req: Request, res: Response, next: NextFunction): void {
  if (/%00/.test(req.path)) {
    res.status(400).json(errorBody(400, 'path: must not contain NUL characters (%00)'));
    return;
  }
  if (!decodablePath(req.path)) {
    res.status(400).json(errorBody(400, 'path: malformed percent-encoding (every %XX must spell UTF-8)'));
    return;
  }
  for (const [name, value] of Object.entries(req.query ?? {})) {
    for (const text of [name, ...(Array.isArray(value) ? value : [value])].filter((item): item is string => typeof item === 'string')) {
      const problem = stringProblem(text);
      if (problem) {
        res.status(400).json(errorBody(400, `${stringProblem(name) ? 'query' : name}: ${problem}`));
        return;
      }
    }
  }
  next();
}

function checkJsonBody(req: Request, res: Response, next: NextFunction): void {
  // A raw body a route read itself (the outbox's message/rfc822) is not JSON.
  if (req.body === undefined || Buffer.isBuffer(req.body)) return next();
  const problem = jsonBodyProblem(req.body);
  if (!problem) return next();
  res.status(400).json(errorBody(400, problem));
}

/**
 * JSON bodies with a size limit, strictly: UTF-8 only (invalid bytes are a 400, not silently replaced),
 * `application/json` only (415 otherwise), and the checks of json-hygiene before any DTO sees the body.
 * Parse errors (malformed JSON, too large, undecodable Content-Encoding) are answered here with the
 * standard error body, because they happen before Nest's exception filters see the request.
 * The Graph receiver has parsed its own body by then (installGraphBodyParsing): express.json skips a
 * body that was read, and the receiver drops bad items one by one instead of refusing the batch.
 * `skipPaths` (a path prefix, or a pattern the whole path matches) are routes that read their bodies
 * themselves: the Graph receiver, and the outbox, which streams its body (installOutboxBodyParsing).
 */
export function installBodyParsing(app: INestApplication, limit: string, skipPaths: (string | RegExp)[] = []): void {
  const skipped = (req: Request) =>
    skipPaths.some((skip) => (typeof skip === 'string' ? req.path === skip || req.path.startsWith(`${skip}/`) : skip.test(req.path)));
  const unlessSkipped =
    (middleware: (req: Request, res: Response, next: NextFunction) => void) => (req: Request, res: Response, next: NextFunction) =>
      skipped(req) ? next() : middleware(req, res, next);
  app.use(checkUrl);
  app.use(unlessSkipped(requireUtf8Charset));
  app.use(unlessSkipped(strictJsonParser(limit)));
  app.use(unlessSkipped(requireJson));
  app.use(unlessSkipped(checkJsonBody));
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const body = toErrorBody(error);
    if (!body) return next(error);
    res.status(body.statusCode).json(body);
  });
}
