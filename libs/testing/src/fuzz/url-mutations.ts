import { CaseFactory } from './case-factory';
import { FuzzCase } from './fuzz-case';
import { POLLUTION_MARK } from './body-mutations';
import { FuzzParameter, jsonTypesOf } from './openapi-operations';

/**
 * Path parameter values, percent-encoded as sent, and whether an id parameter accepts them (the row may
 * still not exist): every other one must be refused.
 */
function pathVariants(real: string): [string, string, boolean][] {
  return [
    ['%00', '%00', false],
    ['NUL after the real id', `${real}%00`, false],
    ['NUL before the real id', `%00${real}`, false],
    ['not a UUID', 'not-a-uuid', false],
    ['a number', '1', false],
    ['1e21', '1e21', false],
    ['-1', '-1', false],
    ['5,000 characters', 'a'.repeat(5_000), false],
    ['a UUID of no row', '00000000-0000-4000-8000-000000000000', true],
    ['the real id in upper case', real.toUpperCase(), true],
    ['the real id with a trailing space', `${real}%20`, false],
    ['SQL', `${real}'%20OR%20'1'%3D'1`, false],
    ['CRLF', `${real}%0D%0AX-Injected:%201`, false],
    ['malformed percent-encoding', '%ZZ', false],
    ['an encoded lone surrogate (invalid UTF-8)', '%ED%A0%80', false],
    ['an emoji', '%F0%9F%98%80', false],
    ['an encoded slash', `${real}%2F..`, false],
    ['dot-dot', '..', false],
  ];
}

export function pathCases(factory: CaseFactory, realValues: Record<string, string>): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (const param of factory.operation.pathParams) {
    const real = encodeURIComponent(realValues[param.name] ?? factory.prng.uuid());
    for (const [label, value, accepted] of pathVariants(real)) {
      cases.push(
        factory.make(`path ${param.name}: ${label}`, {
          body: factory.validBody(),
          pathParams: { [param.name]: value },
          // The NUL check runs before routing, where only "path" is known, not the parameter's name.
          names: [param.name, 'path'],
          mustReject: !accepted,
        }),
      );
    }
  }
  return cases;
}

/** Values for one query parameter: [label, encoded query fragment, must be refused]. */
function queryVariants(param: FuzzParameter): [string, string, boolean][] {
  const name = encodeURIComponent(param.name);
  const types = jsonTypesOf(param.schema);
  const { minimum, maximum } = param.schema;
  const outside = (n: number) => (minimum !== undefined && n < minimum) || (maximum !== undefined && n > maximum);
  const common: [string, string, boolean][] = [
    ['%00', `${name}=%00`, true],
    ['NUL inside', `${name}=a%00b`, true],
    ['an encoded lone surrogate (invalid UTF-8)', `${name}=%ED%A0%80`, false],
    ['5,000 characters', `${name}=${'9'.repeat(5_000)}`, false],
    ['empty', `${name}=`, false],
    ['given twice', `${name}=1&${name}=2`, false],
    ['with brackets', `${name}[]=1`, false],
    ['as an object', `${name}[a]=1`, false],
    ['malformed percent-encoding', `${name}=%ZZ`, false],
  ];
  if (types.includes('number') || types.includes('integer')) {
    const numbers: [string, number][] = [
      ['abc', NaN],
      ['1e21', 1e21],
      ['-1', -1],
      ['0', 0],
      ['1.5', 1.5],
      ['501', 501],
      ['0x10', 16],
      ['Infinity', Infinity],
      ['NaN', NaN],
      [' 5', 5],
      ['99999999999999999999999999999', 1e29],
    ];
    for (const [text, parsed] of numbers) {
      const refused = Number.isNaN(parsed) || !Number.isFinite(parsed) || outside(parsed) || (types.includes('integer') && !Number.isInteger(parsed));
      common.push([text, `${name}=${encodeURIComponent(text)}`, refused]);
    }
  }
  if (types.includes('boolean')) {
    for (const text of ['maybe', '2', 'TRUE', 'yes']) common.push([text, `${name}=${text}`, text === 'maybe' || text === '2']);
  }
  if (param.schema.format === 'uuid') common.push(['not a UUID', `${name}=not-a-uuid`, true]);
  return common;
}

/** Junk in every documented query parameter, and unknown or prototype-polluting parameters. */
export function queryCases(factory: CaseFactory): FuzzCase[] {
  const valid = factory.validQuery();
  const withFragment = (fragment: string) => (valid ? `${valid}&${fragment}` : fragment);
  const cases: FuzzCase[] = [];
  for (const param of factory.operation.queryParams) {
    const others = valid
      .split('&')
      .filter((part) => part && !part.startsWith(`${encodeURIComponent(param.name)}=`))
      .join('&');
    for (const [label, fragment, refused] of queryVariants(param)) {
      cases.push(factory.make(`query ${param.name}: ${label}`, { body: factory.validBody(), query: others ? `${others}&${fragment}` : fragment, names: [param.name], mustReject: refused }));
    }
  }
  const unknown: [string, string][] = [
    ['an unknown parameter', 'fuzzUnknown=1'],
    ['__proto__ as an object', `__proto__[${POLLUTION_MARK}]=1`],
    ['constructor.prototype as an object', `constructor[prototype][${POLLUTION_MARK}]=1`],
    ['__proto__ as a value', '__proto__=fuzz'],
    ['a NUL in a parameter name', 'fuzz%00name=1'],
    ['a parameter 5,000 characters long', `fuzz=${'a'.repeat(5_000)}`],
  ];
  for (const [label, fragment] of unknown) cases.push(factory.make(`query: ${label}`, { body: factory.validBody(), query: withFragment(fragment), mustReject: false }));
  return cases;
}
