import { FuzzOperation } from './openapi-operations';

/** One request of a fuzz run and what its answer must respect. */
export interface FuzzCase {
  operation: string;
  /** What was done to the valid request: `name: NUL character`, `Content-Encoding: gzip, body not gzip`. */
  mutation: string;
  method: string;
  /** Path and query, percent-encoded as sent. */
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** A 400 must name one of these (field path, query or path parameter); undefined: any message. */
  names?: string[];
  /** The input breaks the contract (documented schema, strict JSON): any 2xx answer is a failure. */
  mustReject: boolean;
  /** The unmutated request, checked against the status the test expects. */
  baseline?: boolean;
}

/** What the test knows about one operation: the real rows it works on and what a valid request is. */
export interface OperationSetup {
  /** Path parameter values (ids of real rows); a missing one is a random UUID (404). */
  pathParams?: Record<string, string>;
  /** A valid body, called for every request so unique fields (emails, domains) stay unique. */
  body?: () => unknown;
  /** Query parameters of the valid request. */
  query?: Record<string, string>;
  /** Statuses the valid request may get; unset: not checked. */
  baselineStatus?: number[];
  /** Where the API is documented to be lenient, and why: those mutations need not be refused. */
  lenient?: {
    reason: string;
    /** Body fields at or under this path are dropped item by item rather than refused. */
    fieldsUnder?: string;
    /** Unknown body keys are ignored. */
    unknownKeys?: boolean;
    /** The body is read as JSON whatever its Content-Type or charset. */
    mediaTypes?: boolean;
  };
}

export interface PlanOptions {
  /** The recognizable secret: every secret field carries it, and no answer may contain it. */
  secret: string;
  /** Fields that are secrets although the document does not mark them write-only. */
  secretNames?: string[];
  /** The API key sent to secured operations. */
  apiKey: string;
}

export interface RequestParts {
  pathParams?: Record<string, string>;
  query?: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

/** Substitutes already-encoded path parameter values into the template and appends the raw query. */
export function urlOf(operation: FuzzOperation, pathParams: Record<string, string>, query = ''): string {
  const path = operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => pathParams[name] ?? '');
  return query ? `${path}?${query}` : path;
}

/** `a=1&b=2`, values percent-encoded. */
export function queryOf(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
}
