import type { DeliveryAttemptResponse } from '@app/webhooks';
import { groupByEvent } from './webhook-endpoints.service';

function attempt(eventId: string, n: number, status: number | null, error: string | null = null): DeliveryAttemptResponse {
  return { eventId, eventType: 'mail.received', attempt: n, status, error, durationMs: 5, at: new Date(1_000_000 + n).toISOString() };
}

describe('groupByEvent', () => {
  it('groups the log by event, newest first, retryable when the latest attempt failed', () => {
    const groups = groupByEvent([
      attempt('b', 2, 200),
      attempt('a', 3, 500, 'answered 500'),
      attempt('b', 1, null, 'timed out after 10 s'),
      attempt('a', 2, 500, 'answered 500'),
      attempt('c', 1, 410, 'answered 410'),
    ]);
    expect(groups.map((g) => [g.eventId, g.attempts.map((a) => a.attempt), g.retryable])).toEqual([
      ['b', [2, 1], false],
      ['a', [3, 2], true],
      ['c', [1], true],
    ]);
  });
});
