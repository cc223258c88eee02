import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { SmtpSessionPool } from './smtp-session-pool';

/** Servers limit messages per session (nodemailer's own pool retires a connection after 100 too). */
const MESSAGES_PER_SESSION = 100;

/**
 * The worker process's SMTP sessions (SEND_CONNECTIONS_PER_MAILBOX, SEND_CONNECTION_IDLE_MS). Closed at
 * shutdown, after the send worker let its attempts in flight finish (beforeApplicationShutdown).
 */
@Injectable()
export class SmtpSessions extends SmtpSessionPool implements OnApplicationShutdown {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({ perMailbox: config.sending.connectionsPerMailbox, idleMs: config.sending.connectionIdleMs, maxMessages: MESSAGES_PER_SESSION });
  }

  onApplicationShutdown(): void {
    this.closeAll();
  }
}
