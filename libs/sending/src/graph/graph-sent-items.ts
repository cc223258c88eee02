import { GraphErrorCode } from '@app/failures';
import { GraphApiError, GraphHttp, graphQueryString, GraphUrls, odataString } from '@app/graph';

/**
 * How long after the hand-over Exchange Online may still be filing its Sent Items copy. sendMail and
 * /send answer 202 before the message is submitted; the copy usually appears within seconds.
 */
export const SENT_ITEMS_SETTLE_MS = 30_000;

/**
 * The ids of the messages in the mailbox's Sent Items with this Message-ID (Graph keeps the angle brackets
 * in `internetMessageId`, as we store it): `GET …/mailFolders/sentitems/messages?$filter=internetMessageId
 * eq '…'&$select=id,internetMessageId`, Graph's `{ value: [...] }`. The ids are matched again here, exactly,
 * so a server that compares loosely cannot confirm another message.
 */
export async function sentItemsWithMessageId(http: GraphHttp, urls: GraphUrls, messageId: string): Promise<string[]> {
  const params = graphQueryString([
    ['$filter', `internetMessageId eq ${odataString(messageId)}`],
    ['$select', 'id,internetMessageId'],
  ]);
  const url = `${urls.folder('sentitems')}/messages?${params}`;
  const answer = await http.request({ method: 'GET', url });
  const value = (answer.json as { value?: unknown } | null)?.value;
  if (!Array.isArray(value)) {
    throw new GraphApiError({ kind: 'server', status: answer.status, code: GraphErrorCode.InvalidResponse, message: 'Graph listed Sent Items without a value array' });
  }
  return (value as Array<{ id?: unknown; internetMessageId?: unknown }>).filter((m) => m?.internetMessageId === messageId && typeof m.id === 'string').map((m) => m.id as string);
}

export interface SettledLookUp {
  /** One look: true when the message is there. */
  look: () => Promise<boolean>;
  /** When the interrupted attempt handed the message over (in_flight_since), epoch ms; null: unknown. */
  handedOverAt: number | null;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  settleMs?: number;
}

/**
 * Looks once; when the message is not there and the hand-over is less than the settle time ago (a run that
 * found the send in flight soon after, e.g. a job retried after a database blip), waits until the settle
 * time is over and looks once more. A run after a dead worker usually comes later than that anyway (BullMQ
 * gives the job out again only once the dead worker's lock has lapsed), so the second look is rare, and it
 * holds one worker slot for at most the settle time. Not found then: the caller keeps the send
 * SEND_OUTCOME_UNKNOWN — the safe side, nothing is sent twice.
 */
export async function lookUpAfterSettling(input: SettledLookUp): Promise<{ found: boolean; looks: number }> {
  if (await input.look()) return { found: true, looks: 1 };
  const settleMs = input.settleMs ?? SENT_ITEMS_SETTLE_MS;
  const wait = input.handedOverAt === null ? settleMs : Math.min(settleMs, input.handedOverAt + settleMs - input.now());
  if (wait <= 0) return { found: false, looks: 1 };
  await input.sleep(wait);
  return { found: await input.look(), looks: 2 };
}
