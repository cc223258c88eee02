import { GraphApiError, GraphHttp } from '@app/graph';
import { GRAPH_SEND_LIMITS } from './graph-send-limits';
import { GraphDraftAttachment } from './graph-draft';

/** `["3276800-"]` or `["0-3276799"]` → where the next chunk starts. */
function nextStart(ranges: unknown, uploaded: number): number {
  if (!Array.isArray(ranges) || ranges.length === 0 || typeof ranges[0] !== 'string') return uploaded;
  const start = Number(/^(\d+)-/.exec(ranges[0])?.[1]);
  return Number.isInteger(start) ? start : uploaded;
}

/**
 * One attachment through an upload session (Graph: "Attach large files to Outlook messages"): POST
 * …/messages/{id}/attachments/createUploadSession with the AttachmentItem, then PUT the bytes in chunks
 * (multiples of 320 KiB, `Content-Range: bytes a-b/total`) to the uploadUrl, without the bearer token
 * (the URL carries its own authorization). Each answer names the next expected range; the last chunk
 * is answered 201. Returns the number of PUTs.
 */
export async function uploadAttachment(http: GraphHttp, messageUrl: string, attachment: GraphDraftAttachment, chunkBytes: number = GRAPH_SEND_LIMITS.uploadChunkBytes): Promise<number> {
  const size = attachment.content.length;
  const { json } = await http.request({
    method: 'POST',
    url: `${messageUrl}/attachments/createUploadSession`,
    body: {
      AttachmentItem: {
        attachmentType: 'file',
        name: attachment.name,
        size,
        contentType: attachment.contentType,
        ...(attachment.isInline ? { isInline: true } : {}),
        ...(attachment.contentId ? { contentId: attachment.contentId } : {}),
      },
    },
  });
  const session = (json ?? {}) as { uploadUrl?: unknown; nextExpectedRanges?: unknown };
  if (typeof session.uploadUrl !== 'string') {
    throw new GraphApiError({ kind: 'server', status: 200, code: 'InvalidResponse', message: 'Graph created an upload session without an uploadUrl' });
  }
  let start = nextStart(session.nextExpectedRanges, 0);
  let puts = 0;
  while (start < size) {
    const end = Math.min(size, start + chunkBytes) - 1;
    const answer = await http.putBytes(
      session.uploadUrl,
      { 'Content-Type': 'application/octet-stream', 'Content-Range': `bytes ${start}-${end}/${size}` },
      attachment.content.subarray(start, end + 1),
    );
    puts += 1;
    if (answer.status === 201) return puts;
    const next = nextStart((answer.json as { nextExpectedRanges?: unknown } | null)?.nextExpectedRanges, end + 1);
    // Graph asks for what it is missing; asking for bytes before ones it already acknowledged would loop.
    if (next <= start) throw new GraphApiError({ kind: 'server', status: answer.status, code: 'InvalidResponse', message: `The upload session asked for byte ${next} again after ${start}-${end}` });
    start = next;
  }
  throw new GraphApiError({ kind: 'server', status: 200, code: 'InvalidResponse', message: `The upload session took all ${size} bytes without completing` });
}
