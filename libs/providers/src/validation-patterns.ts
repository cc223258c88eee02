/**
 * Patterns of provider fields, written without flags so that the very same source goes into the OpenAPI
 * document (`pattern` is an ECMA-262 regular expression without flags) and into the validator.
 */

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
/** The last label of a name has a letter (RFC 3696 §2): `1.2.3.999` is a bad IPv4 address, not a name. */
const TOP_LABEL = `(?=[A-Za-z0-9-]*[A-Za-z])${LABEL}`;
const DNS_NAME = `(?=.{1,253}$)(?:${LABEL}\\.)*${TOP_LABEL}`;

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;

const HEX = '[0-9A-Fa-f]{1,4}';
/** `a` groups before `::` (none, or `h:h:…:h`). */
const before = (a: number) => (a === 0 ? '' : `(?:${HEX}:){${a - 1}}${HEX}`);
/** Up to `m` groups after `::`. */
const after = (m: number) => (m === 0 ? '' : `(?:(?:${HEX}:){0,${m - 1}}${HEX})?`);
const range = (n: number) => [...Array(n).keys()];
/**
 * IPv6 in every textual form of RFC 4291 §2.2 (full, `::`-compressed, with a trailing IPv4), no zone id
 * and no brackets (the value is a host, not a URL authority). Generated: 8 groups, or fewer around `::`.
 */
const IPV6 = [
  `(?:${HEX}:){7}${HEX}`,
  ...range(8).map((a) => `${before(a)}::${after(7 - a)}`),
  `(?:${HEX}:){6}${IPV4}`,
  ...range(6).map((a) => `${before(a)}::(?:${HEX}:){0,${5 - a}}${IPV4}`),
].join('|');

/** A DNS name (letters, digits, hyphens; a letter in the last label) or an IPv4 / IPv6 address. */
export const HOST_PATTERN = new RegExp(`^(?:${DNS_NAME}|${IPV4}|${IPV6})$`);
export const HOST_MESSAGE = 'must be a DNS name or an IP address, without scheme, port, path, brackets or spaces (example: outlook.office365.com)';

/** A mail domain such as `contoso.com` (at least two labels). */
export const DOMAIN_PATTERN = new RegExp(`^(?=.{1,253}$)(?:${LABEL}\\.)+${TOP_LABEL}$`);

/** Entra ID tenant: a well-known alias, a GUID or a verified domain. */
export const TENANT_PATTERN = /^(?:common|organizations|consumers|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$/;
