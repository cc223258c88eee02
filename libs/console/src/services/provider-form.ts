import { FieldErrors, splitFieldErrors } from './field-errors';
import type { ProviderResponse } from '@app/providers';

/**
 * The mail-service form as the browser sends it: one flat name per API field (`oauth.clientId`,
 * `smtp.port`), text as typed, a checkbox present only when ticked. Also what the form is drawn from,
 * so a refused form comes back as it was typed (the client secret excepted: it is never sent back).
 */
export interface ProviderFormValues {
  name: string;
  type: string;
  host: string;
  port: string;
  secure: boolean;
  verifyCertificate: boolean;
  loadEmails: boolean;
  sendEmails: boolean;
  loginFormat: string;
  authMethod: string;
  'oauth.clientId': string;
  'oauth.clientSecret': string;
  'oauth.tenant': string;
  'oauth.authorityHost': string;
  'oauth.scopes': string;
  /** '' lets the API choose (google for a Google authority host, else microsoft). */
  'oauth.issuer': string;
  'oauth.appOnly': boolean;
  graphBaseUrl: string;
  'smtp.host': string;
  'smtp.port': string;
  'smtp.security': string;
  /** '' lets the API derive it from the host; 'true' / 'false' as chosen. */
  appendToSent: string;
  /** One domain a line (commas and spaces also separate). */
  domains: string;
}

export type ProviderFormField = keyof ProviderFormValues;

const CHECKBOXES = ['secure', 'verifyCertificate', 'loadEmails', 'sendEmails', 'oauth.appOnly'] as const satisfies readonly ProviderFormField[];
const TEXTS = [
  'name',
  'type',
  'host',
  'port',
  'loginFormat',
  'authMethod',
  'oauth.clientId',
  'oauth.clientSecret',
  'oauth.tenant',
  'oauth.authorityHost',
  'oauth.scopes',
  'oauth.issuer',
  'graphBaseUrl',
  'smtp.host',
  'smtp.port',
  'smtp.security',
  'appendToSent',
  'domains',
] as const satisfies readonly ProviderFormField[];

export const PROVIDER_FORM_FIELDS: readonly ProviderFormField[] = [...TEXTS, ...CHECKBOXES];

/** A new mail service's form: the API's defaults, ticked and chosen. */
export function blankProviderForm(): ProviderFormValues {
  return {
    name: '',
    type: 'imap',
    host: '',
    port: '',
    secure: true,
    verifyCertificate: true,
    loadEmails: true,
    sendEmails: false,
    loginFormat: 'email',
    authMethod: 'basic',
    'oauth.clientId': '',
    'oauth.clientSecret': '',
    'oauth.tenant': '',
    'oauth.authorityHost': '',
    'oauth.scopes': '',
    'oauth.issuer': '',
    'oauth.appOnly': false,
    graphBaseUrl: '',
    'smtp.host': '',
    'smtp.port': '',
    'smtp.security': '',
    appendToSent: '',
    domains: '',
  };
}

/** An existing mail service's form: what is stored (the client secret is write-only: never filled in). */
export function providerFormOf(provider: ProviderResponse): ProviderFormValues {
  return {
    name: provider.name,
    type: provider.type,
    host: provider.host ?? '',
    port: provider.port === null ? '' : String(provider.port),
    secure: provider.secure,
    verifyCertificate: provider.verifyCertificate,
    loadEmails: provider.loadEmails,
    sendEmails: provider.sendEmails,
    loginFormat: provider.loginFormat,
    authMethod: provider.authMethod,
    'oauth.clientId': provider.oauth?.clientId ?? '',
    'oauth.clientSecret': '',
    'oauth.tenant': provider.oauth?.tenant ?? '',
    'oauth.authorityHost': provider.oauth?.authorityHost ?? '',
    'oauth.scopes': provider.oauth?.scopes.join(' ') ?? '',
    'oauth.issuer': provider.oauth?.issuer ?? '',
    'oauth.appOnly': provider.oauth?.appOnly ?? false,
    graphBaseUrl: provider.graphBaseUrl ?? '',
    'smtp.host': provider.smtp?.host ?? '',
    'smtp.port': provider.smtp ? String(provider.smtp.port) : '',
    'smtp.security': provider.smtp?.security ?? '',
    appendToSent: provider.type === 'imap' ? String(provider.appendToSent) : '',
    domains: provider.domains.join('\n'),
  };
}

/** Reads a posted form (urlencoded, flat names). A name sent twice counts once; anything else is ignored. */
export function providerFormFromBody(body: Record<string, unknown>): ProviderFormValues {
  const first = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);
  const values = blankProviderForm();
  for (const name of TEXTS) {
    const value = first(body[name]);
    values[name] = typeof value === 'string' ? value : '';
  }
  for (const name of CHECKBOXES) values[name] = first(body[name]) !== undefined;
  return values;
}

/** The form without its secret, to draw again after a refusal. */
export function withoutSecrets(values: ProviderFormValues): ProviderFormValues {
  return { ...values, 'oauth.clientSecret': '' };
}

function list(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A port as typed: a number when it is digits, else the text itself (the API then says what is wrong with it). */
function portOf(text: string): number | string {
  const trimmed = text.trim();
  return /^[0-9]{1,9}$/.test(trimmed) ? Number(trimmed) : trimmed;
}

type Json = Record<string, unknown>;

/**
 * A POST /v1/providers body from the form. Blank fields are left out (the API's default applies), and so
 * are the sections the chosen type and authentication do not use (the form shows them all without CSS),
 * so the API never sees an OAuth client id on a Basic service. Everything else goes as typed: the API's
 * own validation judges it.
 */
export function createRequestOf(values: ProviderFormValues): Json {
  const body: Json = {
    name: values.name.trim(),
    type: values.type,
    secure: values.secure,
    verifyCertificate: values.verifyCertificate,
    loadEmails: values.loadEmails,
    sendEmails: values.sendEmails,
    loginFormat: values.loginFormat,
    authMethod: values.authMethod,
  };
  if (values.host.trim()) body.host = values.host.trim();
  if (values.port.trim()) body.port = portOf(values.port);
  if (values.authMethod === 'oauth2') {
    const oauth: Json = { appOnly: values['oauth.appOnly'] };
    for (const key of ['clientId', 'tenant', 'authorityHost', 'issuer'] as const) {
      const text = values[`oauth.${key}`].trim();
      if (text) oauth[key] = text;
    }
    // The secret as typed: spaces may belong to it.
    if (values['oauth.clientSecret']) oauth.clientSecret = values['oauth.clientSecret'];
    const scopes = list(values['oauth.scopes']);
    if (scopes.length) oauth.scopes = scopes;
    body.oauth = oauth;
  }
  if (values.type === 'microsoft-graph') {
    if (values.graphBaseUrl.trim()) body.graphBaseUrl = values.graphBaseUrl.trim();
  } else {
    const smtp: Json = {};
    if (values['smtp.host'].trim()) smtp.host = values['smtp.host'].trim();
    if (values['smtp.port'].trim()) smtp.port = portOf(values['smtp.port']);
    if (values['smtp.security']) smtp.security = values['smtp.security'];
    if (Object.keys(smtp).length) body.smtp = smtp;
    if (values.appendToSent === 'true' || values.appendToSent === 'false') body.appendToSent = values.appendToSent === 'true';
  }
  const domains = list(values.domains);
  if (domains.length) body.domains = domains;
  return body;
}

function sameList(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => item === b[index]);
}

/**
 * A PATCH /v1/providers/:id body from the edit form: only what the person changed. What they left alone
 * is not sent, so values the API derives (SMTP server, append to Sent, scopes) keep following the host
 * and type, and a blank client secret keeps the stored one. A domain list that became empty is sent
 * (it removes every domain); the name is always compared, so a cleared name reaches the API's check.
 */
export function patchRequestOf(values: ProviderFormValues, current: ProviderResponse): Json {
  const wanted = createRequestOf(values);
  const stored = createRequestOf(providerFormOf(current));
  const patch: Json = {};
  for (const key of ['name', 'type', 'host', 'port', 'secure', 'verifyCertificate', 'loadEmails', 'sendEmails', 'loginFormat', 'authMethod', 'graphBaseUrl', 'appendToSent'] as const) {
    if (wanted[key] !== undefined && wanted[key] !== stored[key]) patch[key] = wanted[key];
  }
  const wantedDomains = (wanted.domains as string[] | undefined) ?? [];
  const storedDomains = (stored.domains as string[] | undefined) ?? [];
  const normalize = (domains: string[]) => [...new Set(domains.map((domain) => domain.toLowerCase()))].sort();
  if (!sameList(normalize(wantedDomains), normalize(storedDomains))) patch.domains = wantedDomains;
  for (const group of ['oauth', 'smtp'] as const) {
    const next = wanted[group] as Json | undefined;
    if (!next) continue;
    const before = (stored[group] as Json | undefined) ?? {};
    const changed = Object.fromEntries(
      Object.entries(next).filter(([key, value]) => key === 'clientSecret' || (Array.isArray(value) ? !sameList(value, before[key]) : value !== before[key])),
    );
    if (Object.keys(changed).length) patch[group] = changed;
  }
  return patch;
}

/** The API's refusal, split by the field each part names (`oauth.clientId: is required`); the rest is general. */
export type FormProblems = FieldErrors<ProviderFormField>;

/** Where a problem the API names by a whole object belongs in the form. */
const OBJECT_FIELDS: Record<string, ProviderFormField> = { oauth: 'oauth.clientId', smtp: 'smtp.host' };

function providerFormFieldOf(path: string): ProviderFormField | undefined {
  return OBJECT_FIELDS[path] ?? ((PROVIDER_FORM_FIELDS as readonly string[]).includes(path) ? (path as ProviderFormField) : undefined);
}

/** Splits an API message ("a: x; b: y", as the validation pipe and the settings check write it) by provider form field. */
export function problemsOf(message: string): FormProblems {
  return splitFieldErrors(message, providerFormFieldOf);
}
