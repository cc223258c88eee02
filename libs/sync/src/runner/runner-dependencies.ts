import { ConcurrencyLimit } from '@app/async';
import { Clock } from '@app/clock';
import { MailEventsPublisher } from '@app/events';
import { ConnectRamp } from '@app/imap';
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
  /** Paces new connections per host (the mail server's, or Graph's). */
  ramp: ConnectRamp;
  /** Bounds connection attempts in flight (all hosts). */
  connectSlots: ConcurrencyLimit;
  clock: Clock;
  /** Which addresses connections may reach (production refuses internal ones unless allow-listed). */
  outbound: OutboundPolicy;
  ownerId: string;
  /** Lease epoch fencing cursor writes (0 until replicas hold leases). */
  epoch: number;
}
