import type { LeaseFence } from '@app/cluster';
import { ConnectionState } from '@app/persistence';
import { MailboxRef, MailboxStateChangedEvent } from '@app/events';
import { ConnectionEvent, InvalidConnectionTransitionError, nextConnectionState } from './connection-state';
import { mailboxStateChanged } from './mailbox-state-changed.event';
import { StateReason, StatusSnapshot } from './status-snapshot';

/** The error columns: set from the reason, cleared once connected, otherwise kept. */
export type ErrorMode = 'set' | 'clear' | 'keep';
/** `auth_failing_since`: starts with the first rejection of a run, ends with a successful connection. */
export type AuthMode = 'clear' | 'start' | 'keep';

/** One write of a status row, and the event it publishes, planned from the row it is based on. */
export interface StatusChange {
  mailboxId: string;
  /** The row this change is based on: the write is refused when the row is no longer this. */
  from: StatusSnapshot;
  next: ConnectionState;
  at: Date;
  ownerId: string | null;
  /** The row's new version (from.version + 1). */
  version: number;
  errorMode: ErrorMode;
  reason: StateReason | null;
  /** The report or action that made this change (the reason, when it comes with none). */
  cause: ConnectionEvent;
  authMode: AuthMode;
  /** `mailbox.state_changed`, keyed by the new version, when the state moves; null when only the owner or error changes. */
  event: MailboxStateChangedEvent | null;
  /** The row as this change leaves it. */
  after: StatusSnapshot;
  /**
   * A listener's change: written only while this lease (owner and epoch) holds the mailbox, in the same
   * statement. null: the API's enable/disable, which no lease guards.
   */
  fence: LeaseFence | null;
}

/** What became of a status write: written; refused because the row moved on (re-read, plan again); refused by the lease fence. */
export type StatusWriteOutcome = 'written' | 'moved_on' | 'fenced';

export type StatusPlan =
  /** The event does not apply in the row's state (a late report about a mailbox disabled meanwhile). */
  | { kind: 'not_applicable'; state: ConnectionState; error: InvalidConnectionTransitionError }
  /** It applies but changes nothing worth a write. */
  | { kind: 'unchanged'; state: ConnectionState }
  | { kind: 'change'; change: StatusChange };

/**
 * What `event` does to a mailbox whose status row is `current`: the one place that turns the transition
 * table into a row write and its event, for the listener's reports and the API's enable/disable alike.
 */
export function planStatusChange(
  mailbox: MailboxRef,
  current: StatusSnapshot,
  event: ConnectionEvent,
  reason: StateReason | null,
  owner: string | null,
  at: Date,
  fence: LeaseFence | null = null,
): StatusPlan {
  let next: ConnectionState;
  try {
    next = nextConnectionState(current.state, event);
  } catch (error) {
    if (error instanceof InvalidConnectionTransitionError) return { kind: 'not_applicable', state: current.state, error };
    throw error;
  }
  // Nobody holds a mailbox that waits for a listener or is disabled.
  const ownerId = next === 'pending' || next === 'disabled' ? null : owner;
  const sameError = reason === null || reason.code === current.lastErrorCode;
  if (next === current.state && sameError && current.ownerId === ownerId) return { kind: 'unchanged', state: next };
  const version = current.version + 1;
  const errorMode: ErrorMode = reason ? 'set' : next === 'connected' ? 'clear' : 'keep';
  const authMode: AuthMode = next === 'connected' ? 'clear' : event === 'auth_rejected' ? 'start' : 'keep';
  const lastErrorCode = errorMode === 'set' ? reason!.code : errorMode === 'clear' ? null : current.lastErrorCode;
  return {
    kind: 'change',
    change: {
      cause: event,
      mailboxId: mailbox.id,
      from: current,
      next,
      at,
      ownerId,
      version,
      errorMode,
      reason,
      authMode,
      event: next !== current.state ? mailboxStateChanged(mailbox, version, next, current.state, reason, at) : null,
      after: { state: next, version, lastErrorCode, ownerId, exists: true },
      fence,
    },
  };
}
