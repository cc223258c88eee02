/** Bounds of the outbox's request fields (the total is bounded by SEND_MAX_BYTES: 413 above it). */
export const SEND_LIMITS = {
  /** RFC 5322 §2.1.1: a header line is at most 998 characters. */
  headerValue: 998,
  headerName: 76,
  headers: 50,
  recipients: 500,
  address: 320,
  displayName: 256,
  filename: 255,
  contentType: 255,
  attachments: 100,
  /** Text and HTML bodies, and an attachment's base64: generous bounds, the real one is SEND_MAX_BYTES. */
  body: 200 * 1024 * 1024,
  references: 100,
  messageId: 998,
} as const;

/** One line: a CR or LF would start a header of the caller's choosing (header injection). */
export const SINGLE_LINE = /^[^\r\n]*$/;
export const SINGLE_LINE_MESSAGE = 'must be one line (no CR or LF)';
