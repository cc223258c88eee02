/**
 * Maximum sizes of request fields: the one source for both the validators and the OpenAPI document, so
 * the documented limit is the enforced one. Sizes follow the standards where there is one (RFC 5321
 * address 320, DNS name 253) and are generous bounds elsewhere, there to keep one request small.
 */
export const FIELD_LIMITS = {
  email: 320,
  login: 320,
  password: 1024,
  folderPath: 1000,
  folders: 50,
  externalId: 255,
  name: 200,
  host: 253,
  domain: 253,
  domains: 1000,
  clientId: 256,
  clientSecret: 2048,
  tenant: 253,
  url: 2048,
  scope: 512,
  scopes: 50,
  token: 16_384,
  /** An ISO 8601 date-time with fractions and offset fits in 40; 64 leaves room without inviting abuse. */
  dateTime: 64,
  uuid: 36,
} as const;

/** Port numbers: integers, as TCP has them. */
export const PORT_RANGE = { minimum: 1, maximum: 65_535 } as const;
