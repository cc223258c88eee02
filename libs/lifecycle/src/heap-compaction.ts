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
