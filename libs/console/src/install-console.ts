import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplication } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { CONSOLE_CSP } from './console-csp';
import { installQueueBoard } from './queues/install-queue-board';

export const CONSOLE_PATH = '/console';


function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  next();
}

/**
 * The stylesheet and script, shipped with the code: libs/console/assets next to the sources (tests,
 * ts-node) or copied beside dist/libs/console/src by `npm run build`.
 */
export function consoleAssetsDir(): string {
  const dir = join(__dirname, '..', 'assets');
  if (!existsSync(join(dir, 'console.css'))) throw new Error(`Console assets missing in ${dir}: run npm run build`);
  return dir;
}

/**
 * What the console needs from Express before Nest's routes: its security headers on every response
 * under /console, its forms' bodies (application/x-www-form-urlencoded, small), its static files. Call
 * before installBodyParsing, which must skip /console (the API's routes take JSON only).
 */
export function installConsole(app: INestApplication): void {
  app.use(CONSOLE_PATH, securityHeaders);
  app.use(CONSOLE_PATH, express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 }));
  app.use(
    `${CONSOLE_PATH}/assets`,
    (_req: Request, res: Response, next: NextFunction) => {
      res.setHeader('Cache-Control', 'public, max-age=3600');
      next();
    },
    express.static(consoleAssetsDir(), { index: false, fallthrough: false, dotfiles: 'deny' }),
  );
  installQueueBoard(app);
}
