import { FailureCode } from '@app/failures';
import { isMailboxSendFailure, SendFailureCode } from './send-failure';

describe('isMailboxSendFailure', () => {
  it("the mailbox's failures: SMTP login and certificate, the refused address, Graph's refused token and denied Mail.Send, a token that is not active", () => {
    for (const code of [
      SendFailureCode.AuthFailed,
      SendFailureCode.Tls,
      FailureCode.OutboundAddressRefused,
      FailureCode.GraphUnauthorized,
      FailureCode.GraphAccessDenied,
      FailureCode.TokenInvalid,
      FailureCode.TokenNotObtained,
      FailureCode.TokenWaitingForAuthorization,
    ]) {
      expect([code, isMailboxSendFailure(code)]).toEqual([code, true]);
    }
  });

  it("one message's failures are not", () => {
    for (const code of ['SMTP_550', 'GRAPH_ErrorInvalidRecipients', 'GRAPH_TooManyRequests', SendFailureCode.OutcomeUnknown, SendFailureCode.RetryWindowOver, SendFailureCode.NotSendable]) {
      expect([code, isMailboxSendFailure(code)]).toEqual([code, false]);
    }
  });
});
