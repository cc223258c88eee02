import { Inject, Injectable, Logger } from '@nestjs/common';
import { aboutMailbox } from '@app/logging';
import { flightBatcher, SETUP_BATCH_INTERVAL_MS } from '@app/batching';
import { Clock, CLOCK } from '@app/clock';
import { FencedOutError, LeaseFence } from '@app/cluster';
import { MailboxRef } from '@app/events';
import { ConnectionEvent, MailboxStatusRepository, MailboxStatusWriter, planStatusChange, StateReason, StatusSnapshot } from '@app/mailbox-state';
import { ConnectionState } from '@app/persistence';

// Where the runners and the specs loader have always found them.
export type { StateReason, StatusSnapshot } from '@app/mailbox-state';
export { statusSnapshotOf } from '@app/mailbox-state';

/**
 * The listener's reports of its mailboxes' connections. It remembers what it last wrote per mailbox, so a
 * change is one conditional write through MailboxStatusWriter (optimistic: refused and re-read when the
 * row moved on — the API disabled it, another replica took it), not a locked read-modify-write
 * transaction. Every write carries the runner's lease (owner and epoch): once another replica holds the
 * mailbox it is refused (FencedOutError), and the new owner's reports stand. The writes made while the
 * previous statement ran or in the setup pause after it (flightBatcher, SETUP_BATCH_INTERVAL_MS), with their `mailbox.state_changed` events (written to the outbox by the same statement, published
 * by the relay right after), go out as one statement: 3,000 runners released together at shutdown are a
 * handful of statements.
 */
@Injectable()
export class MailboxStateReporter {
  private readonly logger = new Logger(MailboxStateReporter.name);
  private readonly known = new Map<string, StatusSnapshot>();
  private readonly load = flightBatcher<string, StatusSnapshot>({ key: (id) => id, minIntervalMs: SETUP_BATCH_INTERVAL_MS, run: (ids) => this.repository.load(ids) });
  private readonly recordDeliveryOf = flightBatcher<{ mailboxId: string; at: Date; lagSeconds: number | null; lease: LeaseFence }, void>({
    key: (d) => d.mailboxId,
    run: async (deliveries) => {
      await this.repository.recordDeliveries(deliveries);
      return deliveries.map(() => undefined);
    },
  });

  constructor(
    private readonly repository: MailboxStatusRepository,
    private readonly writer: MailboxStatusWriter,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Returns the new state (unchanged when the event does not apply to the current one). The status names
   * the lease's owner (nobody once pending or disabled). Throws FencedOutError once `lease` no longer
   * holds the mailbox.
   */
  async apply(mailbox: MailboxRef, event: ConnectionEvent, reason: StateReason | null, lease: LeaseFence): Promise<ConnectionState> {
    for (let attempt = 0; ; attempt++) {
      const current = this.known.get(mailbox.id) ?? (await this.load(mailbox.id));
      const plan = planStatusChange(mailbox, current, event, reason, lease.owner, new Date(this.clock.now()), lease);
      if (plan.kind === 'not_applicable') {
        this.logger.debug(aboutMailbox(mailbox.id), `Mailbox ${mailbox.id}: ${event} ignored in state ${plan.state}`);
        return plan.state;
      }
      if (plan.kind === 'unchanged') return plan.state;
      const outcome = await this.writer.apply(plan.change);
      if (outcome === 'fenced') {
        this.known.delete(mailbox.id);
        throw new FencedOutError(`Status write (${event}) of mailbox ${mailbox.id}`, lease);
      }
      if (outcome === 'moved_on') {
        // Someone else (the API enabling/disabling it, another replica) changed the row: read it again.
        this.known.delete(mailbox.id);
        if (attempt < 5) continue;
        throw new Error(`Mailbox ${mailbox.id}: status kept changing under us`);
      }
      this.known.set(mailbox.id, plan.change.after);
      return plan.change.next;
    }
  }

  /** What the row looked like when the supervisor loaded it (a stale snapshot only costs a re-read). */
  seed(mailboxId: string, status: StatusSnapshot): void {
    if (!this.known.has(mailboxId)) this.known.set(mailboxId, status);
  }

  /** Stops remembering a mailbox's row (its runner stopped). */
  forget(mailboxId: string): void {
    this.known.delete(mailboxId);
  }

  current(mailboxId: string): Promise<ConnectionState | null> {
    return this.repository.connectionState(mailboxId);
  }

  authFailingSince(mailboxId: string): Promise<Date | null> {
    return this.repository.authFailingSince(mailboxId);
  }

  /** After a delivery: when the last event went out and how late it was (written only under the lease). */
  recordDelivery(mailboxId: string, at: Date, lagSeconds: number | null, lease: LeaseFence): Promise<void> {
    return this.recordDeliveryOf({ mailboxId, at, lagSeconds, lease });
  }
}
