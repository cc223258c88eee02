import { minutesSeconds, tokenPanel, tokenPanelSection } from './mailbox-token.view';

const NOW = Date.parse('2026-12-05T10:00:00Z');
const mailbox = { id: '0d3c6b8e-1111-4aaa-8bbb-000000000001', email: 'ana@contoso.com', hasPassword: false };
const waiting = {
  state: 'waiting_for_authorization' as const,
  expiresAt: null,
  lastRefreshAt: null,
  lastError: null,
  account: null,
  pendingAuthorization: { userCode: 'ABCD1234', verificationUri: 'https://login.example/devicelogin', expiresAt: '2026-12-05T10:14:59Z' },
};

describe('token panel view', () => {
  it('shows a pending device code with its link and what is left of its life', () => {
    const text = tokenPanelSection({ mailbox, status: { token: waiting }, csrf: 'c' }, waiting, NOW).text;
    expect(text).toContain('<code class="token-user-code" data-user-code>ABCD1234</code>');
    expect(text).toContain('href="https://login.example/devicelogin"');
    expect(text).toContain('data-seconds-left="899">14:59<');
  });

  it('escapes what the identity provider says, and links only to web addresses', () => {
    const hostile = { ...waiting, pendingAuthorization: { userCode: '<img src=x onerror=alert(1)>', verificationUri: 'javascript:alert(1)', expiresAt: waiting.pendingAuthorization.expiresAt } };
    const text = tokenPanelSection({ mailbox, status: { token: hostile }, csrf: 'c' }, hostile, NOW).text;
    expect(text).not.toContain('<img');
    expect(text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(text).not.toContain('href="javascript:');
  });

  it('says "Signed in as" only for a token that has one, and never for Not obtained', () => {
    const active = { ...waiting, state: 'active' as const, pendingAuthorization: null, account: 'ana@contoso.com' };
    expect(tokenPanelSection({ mailbox, status: { token: active }, csrf: 'c' }, active, NOW).text).toContain('Signed in as <strong>ana@contoso.com</strong>');
    const deleted = { ...active, state: 'not_obtained' as const };
    expect(tokenPanelSection({ mailbox, status: { token: deleted }, csrf: 'c' }, deleted, NOW).text).not.toContain('Signed in as');
  });

  it('tells a password mailbox that OAuth does not apply, with no sign-in forms', () => {
    const text = tokenPanel({ mailbox: { ...mailbox, hasPassword: true }, status: { token: null }, csrf: 'c' }).text;
    expect(text).toContain('Password: <strong>set</strong>');
    expect(text).not.toContain('/token/');
  });

  it('counts minutes and seconds', () => {
    expect([minutesSeconds(0), minutesSeconds(59.9), minutesSeconds(61), minutesSeconds(900), minutesSeconds(-3)]).toEqual(['0:00', '0:59', '1:01', '15:00', '0:00']);
  });
});
