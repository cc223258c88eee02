import { DovecotServer } from './dovecot';
import { buildMessage } from './dovecot';

export interface PumpedMessage {
  mailboxId: string;
  email: string;
  uid: number;
  /** When Dovecot confirmed the APPEND (ms since the epoch). */
  deliveredAt: number;
}

/**
 * Mail arriving all the time: one message at a time to each mailbox in turn, paced by `everyMs`, until
 * stopped; every delivery recorded with its UID, so a test can check each was published once.
 */
export class MailPump {
  readonly delivered: PumpedMessage[] = [];
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly dovecot: DovecotServer) {}

  start(mailboxes: Array<{ id: string; email: string }>, everyMs = 30): void {
    if (this.running) throw new Error('the pump is already running');
    this.running = true;
    this.loop = (async () => {
      for (let i = 0; this.running; i++) {
        const mailbox = mailboxes[i % mailboxes.length];
        const { uid } = await this.dovecot.deliver(mailbox.email, buildMessage({ subject: `pumped ${this.delivered.length}` }));
        this.delivered.push({ mailboxId: mailbox.id, email: mailbox.email, uid, deliveredAt: Date.now() });
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    })();
  }

  /** Stops and resolves once the delivery in progress is recorded. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
