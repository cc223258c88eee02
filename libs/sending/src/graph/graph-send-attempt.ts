import { GraphHttp, GraphUrls } from '@app/graph';
import { HandOverRefusedError } from '../smtp/smtp-attempt';
import { GraphDraftAttachment, graphDraftOf } from './graph-draft';
import { bccOf, mimeForGraph } from './graph-recipients';
import { GRAPH_SEND_LIMITS } from './graph-send-limits';
import { uploadAttachment } from './graph-upload-session';

export interface GraphSendInput {
  http: GraphHttp;
  /** The mailbox's URLs: `/me` for a delegated token, `/users/{upn}` for app-only. */
  urls: GraphUrls;
  raw: Buffer;
  messageId: string;
  envelopeTo: string[];
  /** About to make the request that sends: resolves once that is recorded (false stops the attempt). */
  beforeHandOver: () => Promise<boolean>;
  limits?: Partial<typeof GRAPH_SEND_LIMITS>;
}

export interface GraphSendResult {
  /** What mail.sent's `response` says. */
  response: string;
  way: 'sendMail' | 'uploadSession';
}

/**
 * One Graph send attempt. Up to 3 MB of MIME: `POST …/sendMail` with the stored MIME as base64
 * `text/plain` (Graph keeps its Message-ID and saves it to Sent Items). Larger: the draft way Graph
 * documents for large attachments — POST …/messages (JSON, see graph-draft.ts), small attachments
 * POSTed to it, each of 3 MB or more through an upload session, then POST …/messages/{id}/send. Only the
 * request that sends (sendMail, /send) comes after the hand-over is recorded; a draft left by a failed
 * attempt is deleted (best effort) so retries do not pile drafts up.
 */
export async function graphSendAttempt(input: GraphSendInput): Promise<GraphSendResult> {
  const limits = { ...GRAPH_SEND_LIMITS, ...input.limits };
  const bcc = bccOf(input.raw, input.envelopeTo);
  const mime = mimeForGraph(input.raw, bcc);
  if (mime.length <= limits.sendMailMaxMimeBytes) {
    if (!(await input.beforeHandOver())) throw new HandOverRefusedError();
    const answer = await input.http.request({ method: 'POST', url: `${input.urls.mailbox}/sendMail`, contentType: 'text/plain', body: mime.toString('base64') });
    return { response: `Graph sendMail answered ${answer.status}${answer.requestId ? ` (request-id ${answer.requestId})` : ''}`, way: 'sendMail' };
  }

  const { draft, attachments } = await graphDraftOf(input.raw, input.messageId, bcc);
  const created = await input.http.request({ method: 'POST', url: `${input.urls.mailbox}/messages`, body: draft });
  const draftId = (created.json as { id?: unknown } | null)?.id;
  if (typeof draftId !== 'string') throw new Error('Graph created the draft without an id');
  const messageUrl = input.urls.message(draftId);
  let handedOver = false;
  try {
    let puts = 0;
    for (const attachment of attachments) {
      if (attachment.content.length >= limits.uploadSessionMinBytes) puts += await uploadAttachment(input.http, messageUrl, attachment, limits.uploadChunkBytes);
      else await addAttachment(input.http, messageUrl, attachment);
    }
    if (!(await input.beforeHandOver())) throw new HandOverRefusedError();
    handedOver = true;
    const answer = await input.http.request({ method: 'POST', url: `${messageUrl}/send` });
    return {
      response: `Graph send of a draft answered ${answer.status} (${attachments.length} attachment(s), ${puts} upload chunk(s))${answer.requestId ? ` (request-id ${answer.requestId})` : ''}`,
      way: 'uploadSession',
    };
  } catch (error) {
    // After /send was asked for, the draft may already be on its way: it is not touched.
    if (!handedOver) await input.http.request({ method: 'DELETE', url: messageUrl }).catch(() => undefined);
    throw error;
  }
}

/** An attachment below the upload-session size: one POST with its bytes (base64) as a fileAttachment. */
async function addAttachment(http: GraphHttp, messageUrl: string, attachment: GraphDraftAttachment): Promise<void> {
  await http.request({
    method: 'POST',
    url: `${messageUrl}/attachments`,
    body: {
      '@odata.type': '#microsoft.graph.fileAttachment',
      name: attachment.name,
      contentType: attachment.contentType,
      contentBytes: attachment.content.toString('base64'),
      isInline: attachment.isInline,
      ...(attachment.contentId ? { contentId: attachment.contentId } : {}),
    },
  });
}
