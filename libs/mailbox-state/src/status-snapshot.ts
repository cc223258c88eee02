import { ConnectionState } from '@app/persistence';

/** The columns of a `mailbox_status` row a transition is based on. */
export interface StatusRow {
  connection_state: ConnectionState;
  state_version: string;
  last_error_code: string | null;
  owner_id: string | null;
}

/** What a writer last wrote (or read) of a mailbox's row; a write based on a stale one is refused. */
export interface StatusSnapshot {
  state: ConnectionState;
  version: number;
  lastErrorCode: string | null;
  ownerId: string | null;
  exists: boolean;
}

/** The snapshot of a status row's columns; no row (or a LEFT JOIN that found none) is `pending` at version 0. */
export function statusSnapshotOf(row: { [K in keyof StatusRow]: StatusRow[K] | null } | undefined): StatusSnapshot {
  if (!row?.connection_state) return { state: 'pending', version: 0, lastErrorCode: null, ownerId: null, exists: false };
  return { state: row.connection_state, version: Number(row.state_version), lastErrorCode: row.last_error_code, ownerId: row.owner_id, exists: true };
}

/** Why a mailbox changed state (an error code and a sentence), shown in its status and its event. */
export interface StateReason {
  code: string;
  message: string;
}
