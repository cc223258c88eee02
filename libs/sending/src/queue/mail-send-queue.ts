import { JobsOptions } from 'bullmq';

/** The BullMQ queue the sends wait in (job id = send id, so adding one twice is a no-op while it is kept). */
export const MAIL_SEND_QUEUE = 'mail-send';

export interface SendJobData {
  sendId: string;
  /** When the send was accepted (epoch ms): the retry window runs from here. */
  queuedAt: number;
}

/** Attempts are bounded by the retry window (SEND_RETRY_WINDOW_MINUTES), not by count. */
const MAX_ATTEMPTS = 100_000;

export function sendJobOptions(sendId: string): JobsOptions {
  return {
    jobId: sendId,
    attempts: MAX_ATTEMPTS,
    backoff: { type: 'send' },
    removeOnComplete: { age: 24 * 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
