/**
 * Dovecot (2.3, and its master branch as of this writing) loses a new-mail push when the change comes
 * less than 0.5 s before an IDLE session hibernates: the imap process waits NOTIFY_DELAY_MSECS (500 ms,
 * lib-storage/mailbox-watch.c) before it looks at a change, `imap_client_hibernate()` does not check that
 * pending look, and imap-hibernate watches the mailbox with a fresh inotify descriptor that only sees
 * later changes. The session hibernates `imap_hibernate_timeout` (5 s in the harness) after its IDLE
 * began, so mail acknowledged 4.4–5.1 s after that is in this blind window (APPEND's acknowledgement
 * lags the change by milliseconds; the listener's IDLE follows its last job by ~50 ms).
 */
export const HIBERNATE_BLIND_WINDOW_MS: [number, number] = [4_400, 5_100];

/** Whether mail acknowledged this long after its session's IDLE began fell in the blind window. */
export function inHibernateBlindWindow(sinceIdleMs: number): boolean {
  return sinceIdleMs >= HIBERNATE_BLIND_WINDOW_MS[0] && sinceIdleMs <= HIBERNATE_BLIND_WINDOW_MS[1];
}
