import { INestApplication, Logger } from '@nestjs/common';
import { errorMessage } from '@app/failures';

/**
 * Closes the app on SIGTERM/SIGINT (running every shutdown hook: sessions, leases, pools) and exits 0,
 * so orchestrators see a clean stop. Further signals are ignored (Ctrl-C reaches both the supervisor and
 * its children, and the supervisor forwards SIGTERM too); a close that hangs past `graceMs` exits 1.
 */
export function closeOnSignals(app: INestApplication, graceMs = 25_000, logger = new Logger('Shutdown')): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: shutting down`);
    const timer = setTimeout(() => {
      logger.error(`Shutdown took longer than ${graceMs} ms: exiting`);
      process.exit(1);
    }, graceMs);
    timer.unref();
    app
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error(`Shutdown failed: ${errorMessage(error)}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
