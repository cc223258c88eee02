/**
 * Microsoft Graph's documented sizes for sending (learn.microsoft.com: user-sendmail, "Attach large files
 * to Outlook messages"): a request body is at most 4 MB, so a MIME message sent as base64 in one sendMail
 * (4/3 of its size) may be 3 MB; an attachment of 3 MB or more goes through an upload session, in chunks
 * that are multiples of 320 KiB and below 4 MB each. Graph's "MB" are 2^20 bytes (its 4 MB request limit
 * is 4 MiB: a 3 MiB message is exactly 4 MiB as base64).
 */
export const GRAPH_SEND_LIMITS = {
  /** The largest MIME sent in one `sendMail` (base64: 4 MiB). */
  sendMailMaxMimeBytes: 3 * 1024 * 1024,
  /** From this size an attachment is uploaded in an upload session (below it: one POST …/attachments); Graph refuses sessions below 3 MB. */
  uploadSessionMinBytes: 3 * 1024 * 1024,
  /** 10 × 320 KiB = 3 276 800 bytes per PUT. */
  uploadChunkBytes: 10 * 320 * 1024,
} as const;
