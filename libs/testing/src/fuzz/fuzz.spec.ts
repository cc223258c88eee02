import { bodyFieldsOf, withValueAt } from './body-fields';
import { echoesSecret, namesOneOf } from './fuzz-oracle';
import { deeplyNested, raw, toJsonText } from './json-text';
import { OpenApiDocument, operationsOf } from './openapi-operations';
import { Prng } from './prng';
import { LONGEST_BUILT_STRING, valueMutations } from './value-mutations';

describe('fuzz generator', () => {
  it('Prng: one seed, one sequence; UUIDs have the version-4 shape', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(new Prng(43).next()).not.toBe(new Prng(42).next());
    expect(new Prng(1).uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('withValueAt copies, defines __proto__ as an own key, creates arrays, removes with undefined', () => {
    const body = { name: 'x', oauth: { clientId: 'c' } };
    const polluted = withValueAt(body, ['oauth', '__proto__'], { fuzzPolluted: true }) as Record<string, Record<string, unknown>>;
    expect(Object.keys(polluted.oauth)).toEqual(['clientId', '__proto__']);
    expect(Object.getPrototypeOf(polluted.oauth)).toBe(Object.prototype);
    expect(body.oauth).toEqual({ clientId: 'c' });
    expect(withValueAt(body, ['domains', 0], 7)).toEqual({ ...body, domains: [7] });
    expect(withValueAt(body, ['name'], undefined)).toEqual({ oauth: { clientId: 'c' } });
  });

  it('probes a maxLength one character past it, but builds no string longer than LONGEST_BUILT_STRING (a 200 MiB maxLength is left to the body limit)', () => {
    const lengths = (maxLength: number) =>
      valueMutations({ type: 'string', maxLength }, 'fuzz', new Prng(1)).flatMap((m) => (typeof m.value === 'string' ? [[m.label, m.value.length] as const] : []));
    expect(lengths(320)).toContainEqual(['longer than maxLength 320', 321]);
    const huge = lengths(200 * 1024 * 1024);
    expect(huge.filter(([label]) => label.startsWith('longer than maxLength'))).toEqual([]);
    expect(Math.max(...huge.map(([, length]) => length))).toBeLessThanOrEqual(LONGEST_BUILT_STRING);
  });

  it('toJsonText writes raw numbers, deep nesting, escaped lone surrogates, and own __proto__ keys', () => {
    expect(toJsonText({ port: raw('1e400'), skipped: undefined, s: 'a\ud800' })).toBe('{"port":1e400,"s":"a\\ud800"}');
    expect(toJsonText(deeplyNested(3, 'object'))).toBe('{"a":{"a":{"a":1}}}');
    expect(toJsonText(deeplyNested(3_000, 'array')).length).toBe(6_000);
    expect(toJsonText({ ['__proto__']: { x: 1 } })).toBe('{"__proto__":{"x":1}}');
  });

  it('names a field only as a whole path', () => {
    expect(namesOneOf('oauth.clientId: must be a string', ['oauth.clientId'])).toBe(true);
    expect(namesOneOf('domains[0]: must not contain NUL characters', ['domains'])).toBe(true);
    expect(namesOneOf('each value in domains must be a string', ['domains'])).toBe(true);
    expect(namesOneOf('Validation failed (uuid is expected)', ['id'])).toBe(false);
    expect(namesOneOf('clientIds: unknown field', ['clientId'])).toBe(false);
    expect(namesOneOf('provider.oauth.clientId: bad', ['oauth.clientId'])).toBe(false);
  });

  it('sees a secret echoed whole or as the ten characters V8 quotes from a JSON parse error', () => {
    const secret = 'FuzzSecretc29kxQ7xZ';
    expect(echoesSecret(`{"message":"${secret}"}`, secret)).toBe(true);
    expect(echoesSecret('Unexpected token \'F\', ..."assword": FuzzSecret"... is not valid JSON', secret)).toBe(true);
    expect(echoesSecret('Malformed JSON body: syntax error at character 13', secret)).toBe(false);
  });

  it('reads operations, nested and array fields, and secrets from an OpenAPI document', () => {
    const doc: OpenApiDocument = {
      paths: {
        '/v1/things/{id}': {
          patch: {
            parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
            requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
            security: [{ bearer: [] }],
          },
        },
      },
      components: {
        schemas: {
          Auth: { type: 'object', properties: { secret: { type: 'string', writeOnly: true }, scopes: { type: 'array', items: { type: 'string' } } }, required: ['secret'] },
          Thing: { type: 'object', properties: { name: { type: 'string' }, auth: { allOf: [{ $ref: '#/components/schemas/Auth' }] } } },
        },
      },
    };
    const [operation] = operationsOf(doc);
    expect(operation).toMatchObject({ key: 'PATCH /v1/things/{id}', secured: true, pathParams: [{ name: 'id', required: true }], queryParams: [] });
    expect(bodyFieldsOf(operation.body!).map((field) => [field.path, field.required, field.secret])).toEqual([
      ['name', false, false],
      ['auth', false, false],
      ['auth.secret', true, true],
      ['auth.scopes', false, false],
      ['auth.scopes[0]', false, false],
    ]);
  });
});
