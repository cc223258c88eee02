import { BadRequestException } from '@nestjs/common';
import { defaultScopes, resolveProviderSettings } from './provider-settings';

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
});
