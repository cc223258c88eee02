/**
 * Codes that come from elsewhere and reach a status as they are, or under a prefix declared here once:
 * - `GRAPH_<code>`: a Microsoft Graph error code (`GRAPH_ErrorInvalidUser`), or one the Graph client
 *   makes up (`GRAPH_FolderNotFound`, `GRAPH_HTTP502`, `GRAPH_ETIMEDOUT`);
 * - `AADSTS<number>`: a Microsoft identity platform error;
 * - `http_<status>`: an identity provider that failed with that HTTP status and no error code;
 * - unprefixed: OAuth error codes (`invalid_grant`), socket and TLS codes of the OS (`ECONNREFUSED`,
 *   `CERT_HAS_EXPIRED`) and IMAP response codes (`NONEXISTENT`).
 */
export const GRAPH_CODE_PREFIX = 'GRAPH_';
export type GraphFailureCode = `${typeof GRAPH_CODE_PREFIX}${string}`;

/** A Graph error as a status code: `GRAPH_` and Graph's (or the Graph client's) code. */
export function graphFailureCode(graphCode: string): GraphFailureCode {
  return `${GRAPH_CODE_PREFIX}${graphCode}`;
}

export function isGraphFailureCode(code: string | null | undefined): code is GraphFailureCode {
  return code?.startsWith(GRAPH_CODE_PREFIX) ?? false;
}

/** Codes in GraphApiError.code that the status advice names or that the Graph client makes up itself. */
export enum GraphErrorCode {
  // Graph's own
  ErrorInvalidUser = 'ErrorInvalidUser',
  MailboxNotEnabledForRESTAPI = 'MailboxNotEnabledForRESTAPI',
  // the Graph client's
  FolderNotFound = 'FolderNotFound',
  InvalidFolderPath = 'InvalidFolderPath',
  InvalidResponse = 'InvalidResponse',
  InvalidDeltaResponse = 'InvalidDeltaResponse',
  ForeignDeltaLink = 'ForeignDeltaLink',
  /** No answer within the request timeout. */
  TimedOut = 'ETIMEDOUT',
  Aborted = 'ABORTED',
  /** A network failure without a code of its own. */
  Network = 'ENETWORK',
}

/** A Graph error answer without a code of its own: `HTTP` and the status (`HTTP502`). */
export function graphHttpStatusCode(status: number): string {
  return `HTTP${status}`;
}

export const AADSTS_PREFIX = 'AADSTS';
/** Where a Microsoft identity error's number is found in its description. */
export const AADSTS_PATTERN = /AADSTS(\d+)/;
export type AadstsCode = `${typeof AADSTS_PREFIX}${number}`;

export function aadstsCode(number: number | string): AadstsCode {
  return `${AADSTS_PREFIX}${Number(number)}`;
}

export const HTTP_STATUS_PREFIX = 'http_';

/** An identity provider's HTTP failure without an OAuth error code: `http_503`. */
export function httpStatusCode(status: number): string {
  return `${HTTP_STATUS_PREFIX}${status}`;
}
