import type { Response } from 'express';

/** Sends a rendered page; the security headers were set for all of /console by installConsole. */
export function sendPage(res: Response, body: string, status = 200): void {
  res.status(status).type('html').send(body);
}
