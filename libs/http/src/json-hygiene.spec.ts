import { jsonBodyProblem, MAX_JSON_DEPTH, stringProblem } from './json-hygiene';

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i += 1) value = { a: value };
  return value;
}

describe('jsonBodyProblem', () => {
  it('accepts ordinary bodies, including paired surrogates (emoji)', () => {
    expect(jsonBodyProblem({ name: 'Contoso 📬', oauth: { scopes: ['offline_access'] }, port: 993, enabled: null })).toBeUndefined();
    expect(jsonBodyProblem(nested(MAX_JSON_DEPTH - 1))).toBeUndefined();
  });

  it('names the field holding a NUL character, in objects and arrays', () => {
    expect(jsonBodyProblem({ name: 'a\u0000b' })).toBe('name: must not contain NUL characters (\\u0000)');
    expect(jsonBodyProblem({ oauth: { scopes: ['ok', 'x\u0000'] } })).toBe('oauth.scopes[1]: must not contain NUL characters (\\u0000)');
  });

  it('names the field holding a lone surrogate, high or low', () => {
    expect(jsonBodyProblem({ email: 'ana\ud800@contoso.com' })).toMatch(/^email: must be valid Unicode/);
    expect(jsonBodyProblem({ email: '\udc00ana@contoso.com' })).toMatch(/^email: must be valid Unicode/);
  });

  it('refuses prototype keys as unknown fields, at any depth', () => {
    expect(jsonBodyProblem(JSON.parse('{"__proto__":{"admin":true}}'))).toBe('__proto__: unknown field');
    expect(jsonBodyProblem({ oauth: { constructor: 1 } })).toBe('oauth.constructor: unknown field');
    expect(jsonBodyProblem({ prototype: 1 })).toBe('prototype: unknown field');
  });

  it('refuses a key holding NUL', () => {
    expect(jsonBodyProblem({ 'a\u0000': 1 })).toBe('body: a field name must not contain NUL characters (\\u0000)');
  });

  it('stops at the depth limit without recursing (3,000 levels)', () => {
    expect(jsonBodyProblem(nested(3000))).toMatch(new RegExp(`nested deeper than ${MAX_JSON_DEPTH} levels$`));
    expect(jsonBodyProblem(JSON.parse('['.repeat(3000) + ']'.repeat(3000)))).toBe(
      `${'[0]'.repeat(MAX_JSON_DEPTH)}: nested deeper than ${MAX_JSON_DEPTH} levels`,
    );
  });

  it('names the body itself when the problem is at the top', () => {
    expect(jsonBodyProblem('\u0000')).toBe('body: must not contain NUL characters (\\u0000)');
  });
});

describe('stringProblem', () => {
  it('is undefined for well-formed text', () => {
    expect(stringProblem('héllo 👋')).toBeUndefined();
  });
});
