import { FailureCode } from '@app/failures';
import { classifyImapError } from '@app/imap';
import { MailboxNotReadableException, MailServerFailedException, MailServerTimeoutException } from './message-errors';

function isTimeout(code: string, message: string): boolean {
  return code === 'ETIMEOUT' || code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'TimeoutError' || /time(d)? ?out/i.test(message);
}

/**
 * An IMAP failure before any byte went to the client → the HTTP error the CRM sees: the login refused or
 * the address refused by the outbound policy → 409 with the code the mailbox status shows; the server
 * silent → 504; anything else from the server or the network → 502. Never a 500.
 */
export function imapReadError(error: unknown): Error {
  const failure = classifyImapError(error);
  if (failure.kind === 'auth' || failure.kind === 'refused') return new MailboxNotReadableException(String(failure.code), failure.message);
  if (isTimeout(String(failure.code), failure.message)) return new MailServerTimeoutException(failure.message);
  if (failure.kind === 'tls') return new MailServerFailedException(`${failure.message} (${failure.code})`);
  return new MailServerFailedException(`${failure.message} (${failure.code ?? FailureCode.ImapError})`);
}

export { isTimeout };
