import { ValidationError } from '@nestjs/common';
import { ApiKeyMatcher } from './api-key.matcher';
import { flattenValidationErrors } from './validation';

describe('ApiKeyMatcher', () => {
  it('matches any configured key and nothing else', () => {
    const matcher = new ApiKeyMatcher(['first-key-0123456789', 'second-key-0123456789']);
    expect(matcher.matches('first-key-0123456789')).toBe(true);
    expect(matcher.matches('second-key-0123456789')).toBe(true);
    expect(matcher.matches('first-key-012345678')).toBe(false);
    expect(matcher.matches('')).toBe(false);
    expect(new ApiKeyMatcher([]).matches('anything')).toBe(false);
  });
});

describe('flattenValidationErrors', () => {
  it('names nested fields by their path and unknown fields as such', () => {
    const errors = [
      { property: 'port', constraints: { max: 'port must not be greater than 65535' }, children: [] },
      { property: 'colour', constraints: { whitelistValidation: 'property colour should not exist' }, children: [] },
      { property: 'oauth', children: [{ property: 'clientId', constraints: { isNotEmpty: 'clientId should not be empty' }, children: [] }] },
    ] as ValidationError[];
    expect(flattenValidationErrors(errors)).toEqual(['port: must not be greater than 65535', 'colour: unknown field', 'oauth.clientId: should not be empty']);
  });
});
