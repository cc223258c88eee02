import { Clock } from '@app/clock';
import { FencedOutError, LeaseFence } from '@app/cluster';
import { MailEventsPublisher } from '@app/events';
import { ConnectGate } from '@app/imap';
import { OutboundPolicy } from '@app/outbound';
import { FolderCursorRepository } from '../folder-cursor.repository';
import { MailboxCredentials } from '../mailbox-credentials';
import { MailboxStateReporter } from '../mailbox-state.reporter';
import { SyncMetrics } from '../sync.metrics';

/** What every mailbox runner needs, IMAP or Graph (each adds its own: ImapRunnerDependencies, GraphRunnerDependencies). */
export interface RunnerDependencies {
  reporter: MailboxStateReporter;
  credentials: MailboxCredentials;
  cursors: FolderCursorRepository;
  events: MailEventsPublisher;
  metrics: SyncMetrics;
  /**
   * Where every connection attempt waits for its turn: a slot (attempts in flight, all hosts) and a token
   * of its host's ramp (the mail server's, or Graph's; a warm standby's at the hand-over rate).
   */
  connectGate: ConnectGate;
  clock: Clock;
  /** Which addresses connections may reach (production refuses internal ones unless allow-listed). */
  outbound: OutboundPolicy;
  /**
   * The lease this runner's mailbox is held under (each runner its own: the supervisor starts a runner
   * only for a lease it holds). Its owner is the replica id the status names; every write about the
   * mailbox (cursor, status, Graph subscription row) carries owner and epoch and is refused once the
   * lease moved on.
   */
  lease: LeaseFence;
  /**
   * A write about the mailbox was refused (FencedOutError): the supervisor counts it and stops the runner
   * at once, without writing its status (the new owner reports).
   */
  onFencedOut(mailboxId: string, error: FencedOutError): void;
}
