/**
 * The pause between statements of one kind on a connection's setup path: its credential, its cursor, its
 * status (see flightBatcher's minIntervalMs). Connections finish a few dozen a second while thousands start
 * (Dovecot's logins are the pace), so each of these reads and writes found the previous one done and went
 * alone: 5.2 statements per connect at 1,000 mailboxes, and Postgres and the listener spent ~13 of the 46
 * core-seconds the two-core machine had for it. A connection waits for at most one pause per statement.
 * Not for the mail path (cursor advances, deliveries): there a pause would be mail latency.
 */
export const SETUP_BATCH_INTERVAL_MS = 100;
