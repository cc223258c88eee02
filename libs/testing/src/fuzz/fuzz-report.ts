import { FuzzCase } from './fuzz-case';
import { FAILURE_KINDS, FailureKind, FuzzFailure } from './fuzz-oracle';

/** Ids and long runs differ from request to request; without them, equal messages group together. */
function normalized(message: string): string {
  const text = message.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>').replace(/(.)\1{30,}/g, '$1$1$1…');
  return text.length > 180 ? `${text.slice(0, 180)}…` : text;
}

/** One request as a reader can replay it by hand: method, URL, headers (key hidden), the body's start. */
export function describeRequest(fuzzCase: FuzzCase): string {
  const headers = Object.entries(fuzzCase.headers)
    .map(([name, value]) => `${name}: ${name === 'authorization' ? 'Bearer <API key>' : value}`)
    .join(', ');
  const url = fuzzCase.url.length > 160 ? `${fuzzCase.url.slice(0, 160)}…(${fuzzCase.url.length} chars)` : fuzzCase.url;
  const bodyText = fuzzCase.body?.toString('latin1');
  const body = bodyText === undefined ? 'no body' : `body ${JSON.stringify(bodyText.length > 160 ? `${bodyText.slice(0, 160)}…` : bodyText)} (${bodyText.length} bytes)`;
  return `${fuzzCase.method} ${url} [${headers}] ${body}`;
}

/** Up to `max` items, then how many more. */
function listed(items: Set<string>, max: number): string {
  const all = [...items];
  return `${all.slice(0, max).join(' | ')}${all.length > max ? ` | …and ${all.length - max} more` : ''}`;
}

/**
 * All failures at once, by kind, then by answer (status and message, ids blanked): one group per root
 * cause however many operations and mutations share it, each with the operations, the mutations and one
 * request to replay.
 */
export function fuzzReport(failures: FuzzFailure[], seed: number, title: string): string {
  if (failures.length === 0) return '';
  interface Group {
    kind: FailureKind;
    status: number;
    message: string;
    operations: Set<string>;
    mutations: Set<string>;
    example: FuzzCase;
    count: number;
  }
  const groups = new Map<string, Group>();
  for (const failure of failures) {
    const message = normalized(failure.message);
    const key = [failure.kind, failure.status, message].join('\u0000');
    const group = groups.get(key) ?? { kind: failure.kind, status: failure.status, message, operations: new Set(), mutations: new Set(), example: failure.fuzzCase, count: 0 };
    group.operations.add(failure.fuzzCase.operation);
    group.mutations.add(failure.fuzzCase.mutation);
    group.count++;
    groups.set(key, group);
  }
  const sorted = [...groups.values()].sort((a, b) => a.kind.localeCompare(b.kind) || b.count - a.count || a.status - b.status || a.message.localeCompare(b.message));
  const lines = [`${title}: ${failures.length} failing request(s) in ${groups.size} group(s). Seed ${seed}: replay with FUZZ_SEED=${seed} npx jest test/api-fuzz.test.ts`];
  let kind: string | undefined;
  for (const group of sorted) {
    if (group.kind !== kind) {
      kind = group.kind;
      lines.push('', `== ${group.kind}: ${FAILURE_KINDS[group.kind]}`);
    }
    lines.push(
      `- ${group.status} ${JSON.stringify(group.message)} ×${group.count}`,
      `    operations: ${listed(group.operations, 8)}`,
      `    mutations: ${listed(group.mutations, 10)}`,
      `    e.g. ${describeRequest(group.example)}`,
    );
  }
  return lines.join('\n');
}
