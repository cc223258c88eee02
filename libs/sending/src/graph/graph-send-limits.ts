/**
 * Microsoft Graph's documented sizes for sending (learn.microsoft.com: user-sendmail, "Attach large files
 * to Outlook messages"): a request body is at most 4 MB, so a MIME message sent as base64 in one sendMail
 * (4/3 of its size) may be 3 MB; an attachment of 3 MB or more goes through an upload session, in chunks
 * that are multiples of 320 KiB and below 4 MB each. Decimal MB: the limits are not documented as MiB.
 */
export const GRAPH_SEND_LIMITS = {
  /** The largest MIME sent in one `sendMail` (base64: 4 000 000 bytes). */
  sendMailMaxMimeBytes: 3_000_000,
  /** From this size an attachment is uploaded in an upload session (below it: one POST …/attachments). */
  uploadSessionMinBytes: 3_000_000,
  /** 10 × 320 KiB = 3 276 800 bytes per PUT. */
  uploadChunkBytes: 10 * 320 * 1024,
} as const;
