import { ConnectionState } from '@app/persistence';
import { eventId, MailboxRef, MailboxStateChangedEvent } from '@app/events';
import { StateReason } from './status-snapshot';

/**
 * `mailbox.state_changed` for the status row's new `version`: the id is keyed by that version, so one
 * change is one id whichever process (listener or API) made it, and a replayed publish is dropped.
 */
export function mailboxStateChanged(
  mailbox: MailboxRef,
  version: number,
  state: ConnectionState,
  previous: ConnectionState | null,
  reason: StateReason | null,
  occurredAt: Date,
): MailboxStateChangedEvent {
  return {
    id: eventId('mailbox.state_changed', mailbox.id, version),
    type: 'mailbox.state_changed',
    version: 1,
    occurredAt: occurredAt.toISOString(),
    mailbox,
    state,
    previous,
    reason,
  };
}
