import { GraphErrors, type GraphError } from './graph-errors';
import { dotnetUrlEncode, newValidationToken } from './graph-ids';
import { post, withQuery } from './outbound';
import type { FakeGraphDelivery } from './types';

export interface ValidationContext {
  timeoutMs: number;
  ca?: string;
  now: () => number;
  signal?: AbortSignal;
  record: (delivery: FakeGraphDelivery) => void;
}

/**
 * The endpoint handshake Graph runs before creating a subscription: POST `url?validationToken=…`
 * (text/plain, empty body); the endpoint must answer 200, `text/plain`, with the URL-decoded token as
 * the whole body, within the timeout. Throws the 400 Graph answers the subscription request with.
 */
export async function validateEndpoint(url: string, context: ValidationContext, subscriptionId?: string): Promise<void> {
  const token = newValidationToken();
  const at = context.now();
  const result = await post(withQuery(url, 'validationToken', dotnetUrlEncode(token)), '', { 'Content-Type': 'text/plain; charset=utf-8' }, context);
  let failure: { error: GraphError; reason: string } | undefined;
  if (result.timedOut) failure = { error: GraphErrors.validationTimedOut(), reason: 'timeout' };
  else if (result.status !== 200) failure = { error: GraphErrors.validationFailed(), reason: result.error ?? `HTTP ${result.status}` };
  else if (!/^text\/plain\b/i.test(result.contentType ?? '')) {
    failure = { error: GraphErrors.validationFailed(), reason: `content type ${result.contentType ?? '(none)'} is not text/plain` };
  } else if (result.text !== token) failure = { error: GraphErrors.validationMismatch(), reason: 'body does not match the decoded validationToken' };
  context.record({
    kind: 'validation',
    url,
    subscriptionId,
    subscriptionIds: subscriptionId ? [subscriptionId] : [],
    itemCount: 0,
    status: result.status,
    ms: result.ms,
    attempt: 1,
    at,
    error: failure?.reason,
    payload: { validationToken: token },
  });
  if (failure) throw failure.error;
}
