/** A replica heard from within the lease time is `live`, or `draining` once told to stop (it hands its mailboxes over). */
export const REPLICA_STATES = ['live', 'draining'] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];
