import { FuzzCase } from './fuzz-case';

/** What came back for one request (status 0: no HTTP answer at all). */
export interface FuzzAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The transport error when there was no answer. */
  error?: string;
}

export const FAILURE_KINDS = {
  'server error': 'a 5xx: bad input must be a 4xx',
  'no answer': 'no HTTP answer (connection reset or timeout)',
  'unnamed field': 'a 400 whose message does not name the field it refuses',
  'accepted bad input': 'a 2xx for input that breaks the contract',
  'secret echoed': 'the answer contains the secret the request carried',
  'non-standard error body': 'an error that is not { statusCode, error, message }',
  'baseline': 'the valid request did not get the status the test expects',
  'prototype polluted': 'Object.prototype gained a property after this request',
} as const;
export type FailureKind = keyof typeof FAILURE_KINDS;

export interface FuzzFailure {
  kind: FailureKind;
  fuzzCase: FuzzCase;
  status: number;
  message: string;
}

export interface OracleOptions {
  secret: string;
  /** Expected statuses of each operation's valid request. */
  baselineStatus: (operation: string) => number[] | undefined;
}

function messageOf(answer: FuzzAnswer): { message: string; standard: boolean } {
  // A success has no message: its body (the resource) would only split one cause into many groups.
  if (answer.status > 0 && answer.status < 400) return { message: '', standard: true };
  try {
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    const standard = body !== null && typeof body === 'object' && body.statusCode === answer.status && typeof body.error === 'string' && typeof body.message === 'string';
    return { message: typeof body?.message === 'string' ? body.message : answer.text.slice(0, 200), standard };
  } catch {
    return { message: answer.error ?? answer.text.slice(0, 200), standard: false };
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether `message` names one of `names` as a whole path (`oauth.clientId`, not `clientIds` or `x.oauth.clientId`). */
export function namesOneOf(message: string, names: readonly string[]): boolean {
  return names.some((name) => new RegExp(`(^|[^\\w$.\\[])${escapeRegExp(name)}($|[^\\w$])`).test(message));
}

/** Everything wrong with one answer. */
export function judge(fuzzCase: FuzzCase, answer: FuzzAnswer, options: OracleOptions): FuzzFailure[] {
  const { message, standard } = messageOf(answer);
  const failures: FuzzFailure[] = [];
  const fail = (kind: FailureKind) => failures.push({ kind, fuzzCase, status: answer.status, message });
  if (answer.status === 0) {
    fail('no answer');
    return failures;
  }
  const expected = fuzzCase.baseline ? options.baselineStatus(fuzzCase.operation) : undefined;
  if (expected && !expected.includes(answer.status)) fail('baseline');
  if (answer.status >= 500) fail('server error');
  if (answer.status >= 400 && !standard) fail('non-standard error body');
  if (answer.status === 400 && fuzzCase.names && !namesOneOf(message, fuzzCase.names)) fail('unnamed field');
  if (answer.status >= 200 && answer.status < 300 && fuzzCase.mustReject) fail('accepted bad input');
  const headers = Object.values(answer.headers).flat().join('\n');
  if (echoesSecret(answer.text, options.secret) || echoesSecret(headers, options.secret)) fail('secret echoed');
  return failures;
}

/**
 * Whether `text` holds the secret or a piece of it: V8's JSON parse errors quote only about ten
 * characters around the error (`..."assword": FuzzSecret"...`), which is still a leak.
 */
export function echoesSecret(text: string, secret: string): boolean {
  for (let start = 0; start + SECRET_PIECE <= secret.length; start++) if (text.includes(secret.slice(start, start + SECRET_PIECE))) return true;
  return false;
}

/** Long enough that only an echo contains it (with a secret that mixes letters into every window). */
const SECRET_PIECE = 8;
