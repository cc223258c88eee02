import { GraphHttp, GraphStreamResponse } from './graph-http';
import { GraphUrls, query } from './graph-urls';

/** What the parsed view needs from Graph's message resource besides the MIME. */
export interface GraphMessageInfo {
  id: string;
  receivedDateTime: string | null;
  parentFolderId: string | null;
}

/** An attachment as Graph lists it (without contentBytes). */
export interface GraphAttachmentInfo {
  id: string;
  name: string | null;
  contentType: string | null;
  size: number | null;
  isInline: boolean;
}

/**
 * Reading one message: its properties, its MIME (`/$value`), its attachments' list and one
 * attachment's bytes (`/attachments/{id}/$value`). GETs only: nothing here changes `isRead`.
 */
export class GraphMessageReads {
  private readonly urls: GraphUrls;

  constructor(
    private readonly http: GraphHttp,
    baseUrl: string,
    user: string,
  ) {
    this.urls = new GraphUrls(baseUrl, user);
  }

  private messageUrl(id: string): string {
    return `${this.urls.mailbox}/messages/${encodeURIComponent(id)}`;
  }

  async info(id: string): Promise<GraphMessageInfo> {
    const { json } = await this.http.request({ method: 'GET', url: `${this.messageUrl(id)}?${query([['$select', 'receivedDateTime,parentFolderId']])}` });
    const body = (json ?? {}) as Record<string, unknown>;
    return {
      id: typeof body.id === 'string' ? body.id : id,
      receivedDateTime: typeof body.receivedDateTime === 'string' ? body.receivedDateTime : null,
      parentFolderId: typeof body.parentFolderId === 'string' ? body.parentFolderId : null,
    };
  }

  /** Graph answers `/$value` with the message's MIME (RFC 822). */
  mime(id: string): Promise<GraphStreamResponse> {
    return this.http.stream(`${this.messageUrl(id)}/$value`);
  }

  async attachments(id: string): Promise<GraphAttachmentInfo[]> {
    const { json } = await this.http.request({ method: 'GET', url: `${this.messageUrl(id)}/attachments?${query([['$select', 'id,name,contentType,size,isInline']])}` });
    const value = ((json ?? {}) as { value?: unknown }).value;
    if (!Array.isArray(value)) return [];
    return value
      .map((item) => item as Record<string, unknown>)
      .filter((item) => typeof item.id === 'string')
      .map((item) => ({
        id: item.id as string,
        name: typeof item.name === 'string' ? item.name : null,
        contentType: typeof item.contentType === 'string' ? item.contentType : null,
        size: typeof item.size === 'number' ? item.size : null,
        isInline: item.isInline === true,
      }));
  }

  async attachment(messageId: string, attachmentId: string): Promise<GraphAttachmentInfo> {
    const { json } = await this.http.request({
      method: 'GET',
      url: `${this.messageUrl(messageId)}/attachments/${encodeURIComponent(attachmentId)}?${query([['$select', 'id,name,contentType,size,isInline']])}`,
    });
    const item = (json ?? {}) as Record<string, unknown>;
    return {
      id: attachmentId,
      name: typeof item.name === 'string' ? item.name : null,
      contentType: typeof item.contentType === 'string' ? item.contentType : null,
      size: typeof item.size === 'number' ? item.size : null,
      isInline: item.isInline === true,
    };
  }

  /** A fileAttachment's raw bytes. */
  attachmentContent(messageId: string, attachmentId: string): Promise<GraphStreamResponse> {
    return this.http.stream(`${this.messageUrl(messageId)}/attachments/${encodeURIComponent(attachmentId)}/$value`);
  }
}
