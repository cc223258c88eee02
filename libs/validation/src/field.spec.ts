import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { Field } from './field.decorator';
import { fieldProblem } from './field-problem';
import { FIELD_LIMITS } from './field-limits';
import { EMAIL } from './string-checks';

class Inner {
  @Field({ kind: 'string', required: true, maxLength: 10 }) id: string;
}

class Sample {
  @Field({ kind: 'string', maxLength: FIELD_LIMITS.email, check: EMAIL }) email?: string;
  @Field({ kind: 'string', maxLength: 5, nullMeans: 'clears it' }) note?: string | null;
  @Field({ kind: 'integer', minimum: 1, maximum: 9 }) count?: number;
  @Field({ kind: 'list', items: { maxLength: 3 }, maxItems: 2, unique: 'must not repeat' }) tags?: string[];
  @Field({ kind: 'object', type: () => Inner }) inner?: Inner;
}

/** `field: message` lines, as the API's 400 lists them. */
async function problems(plain: object): Promise<string[]> {
  const errors = await validate(plainToInstance(Sample, plain), { whitelist: true, forbidNonWhitelisted: true });
  const lines = (prefix: string, list: typeof errors): string[] =>
    list.flatMap((error) => [
      ...Object.values(error.constraints ?? {}).map((message) => `${prefix}${error.property}: ${message}`),
      ...lines(`${prefix}${error.property}.`, error.children ?? []),
    ]);
  return lines('', errors);
}

describe('Field', () => {
  it('omitted optional fields are not checked', async () => {
    expect(await problems({})).toEqual([]);
  });

  it('null is one message, "must not be null", unless the field says what null means', async () => {
    expect(await problems({ email: null, count: null, tags: null, inner: null, note: null })).toEqual([
      'email: must not be null',
      'count: must not be null',
      'tags: must not be null',
      'inner: must not be null',
    ]);
  });

  it('reports the first problem of each field only', async () => {
    expect(await problems({ email: 'x'.repeat(400), note: 'too long', count: 1.5, tags: ['a', 'a'], inner: { id: '' } })).toEqual([
      'email: must be shorter than or equal to 320 characters',
      'note: must be shorter than or equal to 5 characters',
      'count: must be an integer number',
      'tags: must not repeat',
      'inner.id: should not be empty',
    ]);
    expect(await problems({ inner: 'x' })).toEqual(['inner: must be an object']);
    expect(await problems({ inner: [] })).toEqual(['inner: must be an object']);
  });
});

describe('fieldProblem', () => {
  it.each([
    [{ kind: 'string', maxLength: 3, required: true } as const, undefined, 'is required'],
    [{ kind: 'string', maxLength: 3 } as const, 7, 'must be a string'],
    [{ kind: 'integer', minimum: 1, maximum: 65535 } as const, 0, 'must be between 1 and 65535'],
    [{ kind: 'integer', minimum: 1, maximum: 65535 } as const, '993', 'must be an integer number'],
    [{ kind: 'boolean' } as const, 'yes', 'must be a boolean value'],
    [{ kind: 'enum', values: ['a', 'b'] } as const, 'c', 'must be one of: a, b'],
    [{ kind: 'list', items: { maxLength: 3 }, minItems: 1, maxItems: 2 } as const, [], 'must contain at least 1 elements'],
    [{ kind: 'list', items: { maxLength: 3 }, maxItems: 2 } as const, ['a', 'b', 'c'], 'must contain no more than 2 elements'],
    [{ kind: 'list', items: { maxLength: 3 }, maxItems: 2 } as const, ['a', null], 'item 2 must not be null'],
    [{ kind: 'list', items: { maxLength: 3 }, maxItems: 2 } as const, ['abcd'], 'item 1 must be shorter than or equal to 3 characters'],
  ])('%j with %j → %s', (spec, value, message) => {
    expect(fieldProblem(spec, value)).toBe(message);
  });
});
