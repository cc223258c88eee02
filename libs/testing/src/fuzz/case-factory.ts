import { bodyFieldsOf, BodyField, exampleOf } from './body-fields';
import { FuzzCase, OperationSetup, PlanOptions, queryOf, urlOf } from './fuzz-case';
import { toJsonText } from './json-text';
import { FuzzOperation } from './openapi-operations';
import { Prng } from './prng';

export interface CaseParts {
  /** The body: a JSON value, raw bytes, or omitted (none). `baseline` for the valid body. */
  body?: unknown;
  rawBody?: Buffer;
  /** Replaces the valid query string (already encoded). */
  query?: string;
  /** Replaces path parameter values (already encoded). */
  pathParams?: Record<string, string>;
  /** Headers on top of (or, with undefined, instead of) the defaults. */
  headers?: Record<string, string | undefined>;
  names?: string[];
  mustReject: boolean;
}

/** Builds the requests of one operation: the valid one, and the same with one thing changed. */
export class CaseFactory {
  readonly fields: BodyField[];
  readonly secretFields: BodyField[];
  private readonly pathParams: Record<string, string>;

  constructor(
    readonly operation: FuzzOperation,
    readonly setup: OperationSetup,
    readonly options: PlanOptions,
    readonly prng: Prng,
  ) {
    this.fields = operation.body ? bodyFieldsOf(operation.body, options.secretNames) : [];
    this.secretFields = this.fields.filter((field) => field.secret);
    this.pathParams = Object.fromEntries(operation.pathParams.map((param) => [param.name, encodeURIComponent(setup.pathParams?.[param.name] ?? prng.uuid())]));
  }

  /** The valid body: the test's, or one made from the document's examples. */
  validBody(): unknown {
    if (this.setup.body) return this.setup.body();
    return this.operation.body ? exampleOf(this.operation.body) : undefined;
  }

  validQuery(): string {
    return queryOf(this.setup.query ?? {});
  }

  /** What string values of `field` are built around: the secret for secrets, so every echo shows. */
  textFor(field: BodyField | undefined): string {
    return field?.secret ? this.options.secret : 'fuzz';
  }

  /** Under the path the test documents as dropped item by item (the Graph receiver's items). */
  lenientField(path: string): boolean {
    const under = this.setup.lenient?.fieldsUnder;
    return under !== undefined && (path === under || path.startsWith(`${under}.`) || path.startsWith(`${under}[`));
  }

  make(mutation: string, parts: CaseParts): FuzzCase {
    const body = parts.rawBody ?? (parts.body === undefined ? undefined : Buffer.from(toJsonText(parts.body), 'utf8'));
    const headers: Record<string, string> = {};
    if (this.operation.secured) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    for (const [name, value] of Object.entries(parts.headers ?? {})) {
      if (value === undefined) delete headers[name];
      else headers[name] = value;
    }
    return {
      operation: this.operation.key,
      mutation,
      method: this.operation.method,
      url: urlOf(this.operation, { ...this.pathParams, ...parts.pathParams }, parts.query ?? this.validQuery()),
      headers,
      body,
      names: parts.names,
      mustReject: parts.mustReject,
    };
  }

  baseline(): FuzzCase {
    return { ...this.make('none (the valid request)', { body: this.validBody(), mustReject: false }), baseline: true };
  }
}
