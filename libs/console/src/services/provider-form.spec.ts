import type { ProviderResponse } from '@app/providers';
import { blankProviderForm, createRequestOf, patchRequestOf, problemsOf, providerFormFromBody, providerFormOf } from './provider-form';

const stored: ProviderResponse = {
  id: '2b0f3c1e-8a34-4b8e-9f3c-0d6b1e2f3a4b',
  name: 'Contoso',
  type: 'imap',
  host: 'outlook.office365.com',
  port: 993,
  secure: true,
  verifyCertificate: true,
  loadEmails: true,
  sendEmails: true,
  loginFormat: 'email',
  authMethod: 'oauth2',
  oauth: { clientId: 'app-1', hasClientSecret: true, tenant: 'contoso.com', authorityHost: 'https://login.microsoftonline.com', scopes: ['offline_access', 'x'], issuer: 'microsoft', appOnly: false },
  graphBaseUrl: null,
  domains: ['contoso.com', 'fabrikam.com'],
  smtp: { host: 'smtp.office365.com', port: 587, security: 'starttls' },
  appendToSent: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('the mail-service form', () => {
  it('reads a posted form: checkboxes by presence, a name sent twice once, unknown names ignored', () => {
    const values = providerFormFromBody({ name: ['A', 'B'], type: 'imap', secure: 'on', loadEmails: 'on', evil: 'x', _csrf: 't' });
    expect(values).toMatchObject({ name: 'A', secure: true, loadEmails: true, sendEmails: false, verifyCertificate: false, host: '' });
    expect(values).not.toHaveProperty('evil');
  });

  it('builds the POST body: blanks left to the API, unused sections left out, ports as numbers when they are numbers', () => {
    const values = { ...blankProviderForm(), name: ' Dovecot ', host: ' mail.contoso.com ', port: '143', 'smtp.port': '25x', domains: 'contoso.com\n fabrikam.com, ', 'oauth.clientId': 'ignored' };
    expect(createRequestOf(values)).toEqual({
      name: 'Dovecot',
      type: 'imap',
      host: 'mail.contoso.com',
      port: 143,
      secure: true,
      verifyCertificate: true,
      loadEmails: true,
      sendEmails: false,
      loginFormat: 'email',
      authMethod: 'basic',
      smtp: { port: '25x' },
      domains: ['contoso.com', 'fabrikam.com'],
    });
    const graph = createRequestOf({ ...values, type: 'microsoft-graph', authMethod: 'oauth2', 'oauth.clientSecret': ' s p ', 'oauth.scopes': 'a b\nc', appendToSent: 'true' });
    expect(graph).not.toHaveProperty('smtp');
    expect(graph).not.toHaveProperty('appendToSent');
    expect(graph.oauth).toEqual({ clientId: 'ignored', clientSecret: ' s p ', scopes: ['a', 'b', 'c'], appOnly: false });
  });

  it('sends on edit only what changed: nothing for an untouched form, never a blank secret', () => {
    expect(patchRequestOf(providerFormOf(stored), stored)).toEqual({});
    const edited = { ...providerFormOf(stored), host: 'imap.contoso.com', 'oauth.tenant': 'fabrikam.com', 'oauth.scopes': 'offline_access\nx', domains: 'FABRIKAM.com contoso.com' };
    expect(patchRequestOf(edited, stored)).toEqual({ host: 'imap.contoso.com', oauth: { tenant: 'fabrikam.com' } });
    expect(patchRequestOf({ ...providerFormOf(stored), 'oauth.clientSecret': 'new-secret' }, stored)).toEqual({ oauth: { clientSecret: 'new-secret' } });
    expect(patchRequestOf({ ...providerFormOf(stored), domains: '' }, stored)).toEqual({ domains: [] });
    expect(patchRequestOf({ ...providerFormOf(stored), name: '  ' }, stored)).toEqual({ name: '' });
  });

  it("splits the API's message by field, keeping a message that lists several items with it", () => {
    const problems = problemsOf(
      'host: must be a DNS name; oauth.clientId: is required; domains: a.com is already served by provider "X" (1); b.com is already served by another provider; smtp: only for imap providers',
    );
    expect(problems.byField).toEqual({
      host: ['must be a DNS name'],
      'oauth.clientId': ['is required'],
      domains: ['a.com is already served by provider "X" (1); b.com is already served by another provider'],
      'smtp.host': ['only for imap providers'],
    });
    expect(problems.general).toEqual([]);
    expect(problemsOf('Provider 1 not found; try again').general).toEqual(['Provider 1 not found; try again']);
    expect(problemsOf('mystery: what').general).toEqual(['mystery: what']);
  });
});
