import { INestApplication } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { toErrorBody } from './http-exception.filter';

/**
 * JSON bodies with a size limit. Parse errors (malformed JSON, too large) are answered here with the
 * standard error body, because they happen before Nest's exception filters see the request.
 */
export function installBodyParsing(app: INestApplication, limit: string): void {
  app.use(express.json({ limit, strict: true }));
  app.use(express.urlencoded({ extended: false, limit }));
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const body = toErrorBody(error);
    if (!body) return next(error);
    res.status(body.statusCode).json(body);
  });
}
