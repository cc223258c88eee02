/** A message ready to send: the exact bytes every attempt hands over, and its SMTP envelope. */
export interface ComposedMessage {
  raw: Buffer;
  messageId: string;
  envelope: { from: string; to: string[] };
}

/** A new Message-ID on the mailbox's domain (fixed when the send is accepted: every attempt reuses it). */
export function newMessageId(mailboxEmail: string, id: string): string {
  const domain = mailboxEmail.slice(mailboxEmail.lastIndexOf('@') + 1) || 'localhost';
  return `<${id}@${domain}>`;
}
