import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { isEmail } from 'class-validator';
import { registerDecorator, ValidateIf, ValidationArguments } from 'class-validator';
import { SEND_LIMITS, SINGLE_LINE } from './send-limits';

/** An address as the CRM gives it: `"Ana <ana@contoso.com>"`, `ana@contoso.com` or `{ name, address }`. */
export type AddressInput = string | { name?: string; address: string };

/** A parsed address. */
export interface Address {
  name: string | null;
  address: string;
}

function isAddress(value: string): boolean {
  return isEmail(value, { allow_display_name: false, require_tld: false, allow_ip_domain: true });
}

/** `Ana <ana@contoso.com>` or a bare address; null when it is neither. */
export function parseAddressString(text: string): Address | null {
  const trimmed = text.trim();
  const angle = /^(.*?)\s*<([^<>]+)>$/.exec(trimmed);
  if (angle) {
    const name = angle[1].trim().replace(/^"(.*)"$/, '$1');
    return isAddress(angle[2]) ? { name: name || null, address: angle[2] } : null;
  }
  return isAddress(trimmed) ? { name: null, address: trimmed } : null;
}

/** The first thing wrong with one address item (`: …` or `.address: …` after its path), or its parsed form. */
export function addressProblem(item: unknown): string | Address {
  if (typeof item === 'string') {
    if (item.length === 0) return ': should not be empty';
    if (item.length > SEND_LIMITS.address + SEND_LIMITS.displayName + 3) return ': is too long';
    if (!SINGLE_LINE.test(item)) return ': must be one line (no CR or LF)';
    return parseAddressString(item) ?? ': must be an email address such as ana@contoso.com or "Ana <ana@contoso.com>"';
  }
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return ': must be a string or an object { name, address }';
  const { name, address, ...rest } = item as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) return `.${unknown.slice(0, 50)}: unknown field`;
  if (typeof address !== 'string') return '.address: must be a string';
  if (address.length > SEND_LIMITS.address || !isAddress(address)) return '.address: must be an email address such as ana@contoso.com';
  if (name !== undefined && name !== null) {
    if (typeof name !== 'string') return '.name: must be a string';
    if (name.length > SEND_LIMITS.displayName) return `.name: must be shorter than or equal to ${SEND_LIMITS.displayName} characters`;
    if (!SINGLE_LINE.test(name)) return '.name: must be one line (no CR or LF)';
  }
  return { name: typeof name === 'string' && name.length > 0 ? name : null, address };
}

/** The first thing wrong with the list, its item named by path (`to[1].address: …`) so the 400 names it. */
function listProblem(field: string, value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'must be an array of addresses';
  if (value.length > SEND_LIMITS.recipients) return `must contain no more than ${SEND_LIMITS.recipients} elements`;
  for (const [index, item] of value.entries()) {
    const problem = addressProblem(item);
    if (typeof problem === 'string') return `${field}[${index}]${problem}`;
  }
  return undefined;
}

/** The OpenAPI schema of an address item. */
const ADDRESS_SCHEMA = {
  oneOf: [
    { type: 'string', minLength: 1, description: '`ana@contoso.com` or `Ana <ana@contoso.com>`' },
    {
      type: 'object',
      required: ['address'],
      additionalProperties: false,
      properties: { name: { type: 'string', maxLength: SEND_LIMITS.displayName }, address: { type: 'string', format: 'email', maxLength: SEND_LIMITS.address } },
    },
  ],
};

/** A list of addresses (to, cc, bcc, replyTo): documented and checked from here, items parsed by the service. */
export function AddressListField(options: { description: string; example?: unknown }): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ required: false, type: 'array', items: ADDRESS_SCHEMA, maxItems: SEND_LIMITS.recipients, description: options.description, example: options.example }),
    ValidateIf((_object: unknown, value: unknown) => value !== undefined),
    (target: object, propertyName: string | symbol) =>
      registerDecorator({
        name: 'addressList',
        target: target.constructor,
        propertyName: String(propertyName),
        validator: {
          validate: (value: unknown) => listProblem(String(propertyName), value) === undefined,
          defaultMessage: (args?: ValidationArguments) => (args?.value === null ? 'must not be null' : (listProblem(String(propertyName), args?.value) ?? 'is invalid')),
        },
      }),
  );
}
