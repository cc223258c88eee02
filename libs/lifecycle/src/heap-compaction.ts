import { setFlagsFromString } from 'node:v8';
import { AppConfig } from '@app/config';

/**
 * A listener's heap is thousands of long-lived sessions (~23 KiB each, almost all imapflow) born among
 * the start's short-lived garbage, so the old space ends up as partly filled pages. V8 evacuates only a
 * few such pages per full GC: at 10,000 mailboxes the old space stayed at ~37 KiB committed per mailbox
 * for ~23 KiB in use. Compacting on every full GC keeps committed ≈ used (23 KiB RSS per mailbox at
 * 10,000 instead of 33) for a slower cold start: ~+2 s at 3,000 mailboxes, 66–72 s instead of 58–59 s
 * at 10,000 (bench:imap-idle). Full GCs are rare once the fleet is idle, so steady state pays little.
 * The flag is not allowed in NODE_OPTIONS, hence set here, before the application allocates anything
 * to speak of.
 */
export function applyHeapCompaction(mode: AppConfig['listener']['heapCompaction']): void {
  if (mode === 'every-gc') setFlagsFromString('--compact-on-every-full-gc');
}

/**
 * The old space may grow by `percent` between full GCs (LISTENER_HEAP_GROWTH_PERCENT). Once a replica
 * has idled, V8's memory reducer shrinks its heap and sets the next full GC barely above what lives
 * (~10 %): a replica of 1,000 sessions that then takes 500 of a dead one's ran two or three full GCs
 * over all of them during the takeover, 194–494 ms of main thread each (compacting, as above), on the
 * two cores the mail server's logins need. With 100 % none ran during the takeover: 3.7–4.3 ms of
 * listener CPU per mailbox taken instead of 4.5–6.9, the takers listening ~1 s sooner (bench:failover,
 * trace-gc). But a fresh heap, where V8 lets the heap grow up to 4 × between full GCs, then collects more
 * often: a 3,000-mailbox cold start took 1.29 × Dovecot’s floor instead of 1.18 × (bench:imap-idle, one
 * run each), and memory between full GCs while mail flows may reach twice what lives, where V8 would
 * collect at ~1.1 ×. Hence off (0: V8's own factor) unless an operator wants faster takeovers.
 */
export function applyHeapGrowth(percent: AppConfig['listener']['heapGrowthPercent']): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
