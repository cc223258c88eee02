import { BadRequestException } from '@nestjs/common';
import { OutboundPolicy } from '@app/outbound';
import { defaultScopes, movedEndpoints, resolveProviderSettings } from './provider-settings';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof BadRequestException) return String((error.getResponse() as { message: string }).message);
    throw error;
  }
  throw new Error('expected a BadRequestException');
}

describe('resolveProviderSettings', () => {
  it('fills IMAP defaults: TLS on 993, verify on, load on, basic, email login', () => {
    expect(resolveProviderSettings({ name: 'x', type: 'imap', host: 'Imap.Example.com' })).toMatchObject({
      host: 'imap.example.com',
      port: 993,
      secure: true,
      verifyCertificate: true,
      loadEmails: true,
      sendEmails: false,
      authMethod: 'basic',
      loginFormat: 'email',
      oauth: null,
      graphBaseUrl: null,
    });
    expect(resolveProviderSettings({ name: 'x', type: 'imap', host: 'h.example', secure: false }).port).toBe(143);
  });

  it('fills Graph defaults: oauth2, common tenant, Microsoft authority, Graph base URL, Mail.Read', () => {
    expect(resolveProviderSettings({ name: 'g', type: 'microsoft-graph', oauth: { clientId: 'c' } })).toMatchObject({
      authMethod: 'oauth2',
      oauth: { clientId: 'c', tenant: 'common', authorityHost: 'https://login.microsoftonline.com', scopes: ['offline_access', 'https://graph.microsoft.com/Mail.Read'] },
      graphBaseUrl: 'https://graph.microsoft.com/v1.0',
    });
  });

  it('picks Google scopes for a Google authority', () => {
    expect(defaultScopes('imap', 'google', false, null)).toEqual(['https://mail.google.com/']);
    expect(defaultScopes('microsoft-graph', 'microsoft', true, 'https://graph.microsoft.us/v1.0')).toEqual(['https://graph.microsoft.us/.default']);
  });

  it('lists every broken cross-field rule at once', () => {
    const message = messageOf(() => resolveProviderSettings({ name: 'x', type: 'imap', authMethod: 'oauth2', loadEmails: false, sendEmails: false }));
    expect(message.split('; ')).toEqual([
      'oauth.clientId: is required when authMethod is oauth2',
      'loadEmails: at least one of loadEmails and sendEmails must be true',
      'host: is required for imap providers (example: outlook.office365.com)',
    ]);
  });

  it('merges a patch over the stored settings and keeps what is not given', () => {
    const base = resolveProviderSettings({ name: 'x', type: 'imap', host: 'h.example', authMethod: 'oauth2', oauth: { clientId: 'a', tenant: 'organizations' }, domains: ['B.com', 'a.com', 'a.com'] });
    expect(base.domains).toEqual(['a.com', 'b.com']);
    const patched = resolveProviderSettings({ oauth: { clientId: 'b' } }, base);
    expect(patched.oauth).toMatchObject({ clientId: 'b', tenant: 'organizations' });
    expect(patched.domains).toEqual(['a.com', 'b.com']);
    expect(resolveProviderSettings({ authMethod: 'basic' }, base).oauth).toBeNull();
    expect(messageOf(() => resolveProviderSettings({ authMethod: 'basic', oauth: { clientId: 'z' } }, base))).toBe('oauth: only accepted when authMethod is oauth2');
  });

  it('in production names an http identity or Graph address, unless the allow list names its IP', () => {
    const production = new OutboundPolicy({ enforce: true, allowedNetworks: [{ address: '10.0.0.0', prefix: 8, family: 'ipv4' }] });
    const urlProblem = (url: string) => production.urlProblem(url);
    const graph = { name: 'g', type: 'microsoft-graph' as const, oauth: { clientId: 'c', authorityHost: 'http://login.example.test' }, graphBaseUrl: 'http://graph.example.test/v1.0' };
    expect(messageOf(() => resolveProviderSettings(graph, undefined, { urlProblem })).split('; ')).toEqual([
      'oauth.authorityHost: must be https in production (plain http only to an IP address listed in OUTBOUND_ALLOWED_NETWORKS)',
      'graphBaseUrl: must be https in production (plain http only to an IP address listed in OUTBOUND_ALLOWED_NETWORKS)',
    ]);
    expect(() => resolveProviderSettings({ ...graph, oauth: { clientId: 'c', authorityHost: 'http://10.1.2.3:8080' }, graphBaseUrl: 'https://graph.example.test/v1.0' }, undefined, { urlProblem })).not.toThrow();
    expect(() => resolveProviderSettings(graph, undefined, { urlProblem: (url) => OutboundPolicy.allowAll().urlProblem(url) })).not.toThrow();
  });

  it('knows when the identity or Graph address moves (spelling alone is no move)', () => {
    const base = resolveProviderSettings({ name: 'g', type: 'microsoft-graph', oauth: { clientId: 'c' } });
    expect(movedEndpoints(base, resolveProviderSettings({ oauth: { authorityHost: 'https://LOGIN.microsoftonline.com/' }, graphBaseUrl: 'https://graph.microsoft.com/v1.0/' }, base))).toEqual([]);
    expect(movedEndpoints(base, resolveProviderSettings({ oauth: { authorityHost: 'https://login.evil.test' } }, base))).toEqual(['oauth.authorityHost']);
    expect(movedEndpoints(base, resolveProviderSettings({ graphBaseUrl: 'https://graph.evil.test/v1.0', oauth: { tenant: 'contoso.com' } }, base))).toEqual(['graphBaseUrl']);
    expect(movedEndpoints(base, resolveProviderSettings({ oauth: { tenant: 'contoso.com', scopes: ['x'] } }, base))).toEqual([]);
  });

  it('an app-only provider whose address moves needs its client secret again in the same request', () => {
    const base = resolveProviderSettings(
      { name: 'g', type: 'microsoft-graph', oauth: { clientId: 'c', tenant: 'contoso.com', appOnly: true } },
      undefined,
      { secretSupplied: true },
    );
    const stored = { secretStored: true };
    expect(messageOf(() => resolveProviderSettings({ graphBaseUrl: 'https://graph.evil.test/v1.0' }, base, stored))).toBe(
      'oauth.clientSecret: is required again when graphBaseUrl changes (a stored secret is only sent to the address it was given for)',
    );
    expect(() => resolveProviderSettings({ graphBaseUrl: 'https://graph.evil.test/v1.0' }, base, { ...stored, secretSupplied: true })).not.toThrow();
    expect(() => resolveProviderSettings({ name: 'renamed' }, base, stored)).not.toThrow();
  });
});

describe('sending settings', () => {
  it('derives the submission server and Sent copy of well-known hosts', () => {
    expect(resolveProviderSettings({ name: 'x', type: 'imap', host: 'outlook.office365.com' })).toMatchObject({
      smtp: { host: 'smtp.office365.com', port: 587, security: 'starttls' },
      appendToSent: false,
    });
    expect(resolveProviderSettings({ name: 'x', type: 'imap', host: 'imap.gmail.com' })).toMatchObject({
      smtp: { host: 'smtp.gmail.com', port: 465, security: 'tls' },
      appendToSent: false,
    });
    expect(resolveProviderSettings({ name: 'x', type: 'imap', host: 'mail.example.org' })).toMatchObject({
      smtp: { host: 'mail.example.org', port: 587, security: 'starttls' },
      appendToSent: true,
    });
  });

  it('has no SMTP for Graph and refuses one', () => {
    expect(resolveProviderSettings({ name: 'g', type: 'microsoft-graph', oauth: { clientId: 'c' } })).toMatchObject({ smtp: null, appendToSent: false });
    expect(messageOf(() => resolveProviderSettings({ name: 'g', type: 'microsoft-graph', oauth: { clientId: 'c' }, smtp: { port: 25 } }))).toMatch(/^smtp: only for imap providers/);
  });

  it('takes the usual security for a port and the usual port for a security', () => {
    expect(resolveProviderSettings({ name: 'x', type: 'imap', host: 'h.example', smtp: { port: 465 } }).smtp).toEqual({ host: 'h.example', port: 465, security: 'tls' });
    expect(resolveProviderSettings({ name: 'x', type: 'imap', host: 'h.example', smtp: { host: 'S.Example', security: 'none', port: 2525 } }).smtp).toEqual({
      host: 's.example',
      port: 2525,
      security: 'none',
    });
  });

  it('lets derived values follow a new host and keeps values the operator set', () => {
    const derived = resolveProviderSettings({ name: 'x', type: 'imap', host: 'mail.example.org' });
    expect(resolveProviderSettings({ host: 'outlook.office365.com' }, derived)).toMatchObject({ smtp: { host: 'smtp.office365.com' }, appendToSent: false });
    const chosen = resolveProviderSettings({ name: 'x', type: 'imap', host: 'mail.example.org', smtp: { host: 'relay.example.org' }, appendToSent: false });
    expect(resolveProviderSettings({ host: 'imap.example.org' }, chosen)).toMatchObject({ smtp: { host: 'relay.example.org', port: 587 }, appendToSent: false });
    expect(resolveProviderSettings({ smtp: { security: 'tls' } }, chosen).smtp).toEqual({ host: 'relay.example.org', port: 465, security: 'tls' });
  });
});

