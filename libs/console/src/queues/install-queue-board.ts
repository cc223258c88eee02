import { INestApplication, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ConsoleAuth } from '../session/console-auth';
import { QUEUES_PATH, QueueBoardService } from './queue-board.service';

/**
 * The console's policy (install-console.ts) with one difference: `base-uri 'self'` instead of 'none'.
 * Bull Board's page is a single-page app that declares `<base href="/console/queues/">` and builds its
 * asset, API and router paths on it; refused, its scripts and styles would resolve against the page's
 * own address (/console/queues/queue/x → /console/queues/queue/static/…) and the board would not load.
 * Scripts, styles, images and requests stay 'self' only; nothing inline runs.
 */
export const QUEUES_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
].join('; ');

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Bull Board at /console/queues, behind the console's session: without one, the page goes to sign-in
 * (and back here after), its JSON API answers 401. Read-only: anything but GET/HEAD is refused here
 * already (405), before the board's own read-only check, so no request can change a queue.
 * Call after installConsole (its headers, which this replaces the CSP of) and before Nest's routes.
 */
export function installQueueBoard(app: INestApplication): void {
  const board = app.get(QueueBoardService, { strict: false });
  const auth = app.get(ConsoleAuth, { strict: false });
  const logger = new Logger('Console');
  app.use(
    QUEUES_PATH,
    (req: Request, res: Response, next: NextFunction) => {
      res.setHeader('Content-Security-Policy', QUEUES_CSP);
      if (!auth.session(req)) {
        if (req.method === 'GET' && !req.path.startsWith('/api/') && !req.path.startsWith('/static/')) {
          res.redirect(303, `/console/sign-in?returnTo=${encodeURIComponent(req.originalUrl)}`);
        } else {
          res.status(401).json({ error: 'Sign in to the console first' });
        }
        return;
      }
      if (!READ_METHODS.has(req.method)) {
        res.status(405).setHeader('Allow', 'GET, HEAD').json({ error: 'The queue board is read-only' });
        return;
      }
      // Without the endpoints (Postgres away) the board still shows the queues it knows.
      board.refresh().then(
        () => next(),
        (error: unknown) => {
          logger.warn(`Bull Board could not read the webhook endpoints: ${error instanceof Error ? error.message : String(error)}`);
          next();
        },
      );
    },
    board.router,
  );
}
