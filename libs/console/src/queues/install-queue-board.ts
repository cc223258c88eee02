import { INestApplication, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { QUEUES_CSP } from '../console-csp';
import { ConsoleAuth } from '../session/console-auth';
import { QUEUES_PATH, QueueBoardService } from './queue-board.service';


const READ_METHODS = new Set(['GET', 'HEAD']);

/** The request's Origin is this server's own (scheme, host and port as the browser addressed it). */
function sameOrigin(req: Request): boolean {
  const origin = req.get('origin');
  const host = req.get('host');
  if (!origin || !host) return false;
  try {
    const url = new URL(origin);
    return url.host === host && (url.protocol === `${req.protocol}:` || url.protocol === 'https:');
  } catch {
    return false;
  }
}

/**
 * Bull Board at /console/queues, behind the console's session: without one, the page goes to sign-in
 * (and back here after), its JSON API answers 401. Read-only unless CONSOLE_QUEUE_ACTIONS=on: anything but
 * GET/HEAD is refused here already (405), before the board's own read-only check; with actions on, only
 * from the console's own origin (403 otherwise).
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
        if (!board.actionsAllowed) {
          res.status(405).setHeader('Allow', 'GET, HEAD').json({ error: 'The queue board is read-only (CONSOLE_QUEUE_ACTIONS=on allows its actions)' });
          return;
        }
        // Bull Board's page sends its actions without the console's CSRF token; a browser always names the
        // page's origin on such a request, so one from another site (or none) is refused besides SameSite=Strict.
        if (!sameOrigin(req)) {
          res.status(403).json({ error: 'A queue action must come from the console page itself (Origin header missing or foreign)' });
          return;
        }
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
