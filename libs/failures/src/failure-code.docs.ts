import { FAILURE_CODE_DESCRIPTIONS, FailureCode } from './failure-code';
import { AADSTS_PREFIX, GRAPH_CODE_PREFIX, HTTP_STATUS_PREFIX } from './passed-through-codes';

/** The OpenAPI description of `lastError.code`: every code of ours, then the patterns of passed-through ones. */
export function failureCodeDescription(): string {
  const ours = Object.values(FailureCode).map((code) => `- \`${code}\`: ${FAILURE_CODE_DESCRIPTIONS[code]}`);
  return [
    'Why the last attempt failed, as a stable code (match on it; the message is for humans). The service sets:',
    ...ours,
    'Passed through from elsewhere:',
    `- \`${GRAPH_CODE_PREFIX}<code>\`: a Microsoft Graph error code (\`${GRAPH_CODE_PREFIX}ErrorInvalidUser\`), or the Graph client's own (\`${GRAPH_CODE_PREFIX}FolderNotFound\`, \`${GRAPH_CODE_PREFIX}HTTP502\`, \`${GRAPH_CODE_PREFIX}ETIMEDOUT\`)`,
    `- \`${AADSTS_PREFIX}<number>\`: a Microsoft identity platform error (\`${AADSTS_PREFIX}50173\`: the grant was revoked)`,
    `- \`${HTTP_STATUS_PREFIX}<status>\`: the identity provider failed with that HTTP status`,
    '- OAuth error codes (`invalid_grant`, `expired_token`, `authorization_declined` …), socket and TLS codes (`ECONNREFUSED`, `CERT_HAS_EXPIRED` …) and IMAP response codes (`NONEXISTENT` …) as they came',
  ].join('\n');
}
