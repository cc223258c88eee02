import { isEmail, isISO8601, isURL, isUUID } from 'class-validator';
import { StringCheck } from './field-spec';

/** The string matches `pattern` (which has no flags, so the OpenAPI document states it as it is). */
export function matches(pattern: RegExp, message: string): StringCheck {
  if (pattern.flags) throw new Error(`Field patterns must have no flags (OpenAPI cannot state them): /${pattern.source}/${pattern.flags}`);
  return { test: (value) => pattern.test(value), message, pattern };
}

export const EMAIL: StringCheck = {
  test: (value) => isEmail(value, { allow_display_name: false, require_tld: false }),
  message: 'must be an email address such as ana@contoso.com',
  format: 'email',
};

export const UUID: StringCheck = { test: (value) => isUUID(value), message: 'must be a UUID', format: 'uuid' };

export function httpUrl(example: string): StringCheck {
  return {
    test: (value) => isURL(value, { protocols: ['https', 'http'], require_protocol: true, require_tld: false }),
    message: `must be an http(s) URL such as ${example}`,
    format: 'uri',
  };
}

export function isoDateTime(example: string): StringCheck {
  return { test: (value) => isISO8601(value, { strict: true }), message: `must be an ISO 8601 date such as ${example}`, format: 'date-time' };
}
