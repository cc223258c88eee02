import { deriveLogin } from './login-format';

describe('deriveLogin', () => {
  it('uses the address, its local part, or the supplied login', () => {
    expect(deriveLogin('email', 'ana@contoso.com', undefined, 'P')).toBe('ana@contoso.com');
    expect(deriveLogin('local-part', 'ana@contoso.com', undefined, 'P')).toBe('ana');
    expect(deriveLogin('manual', 'ana@contoso.com', 'CONTOSO\\ana', 'P')).toBe('CONTOSO\\ana');
  });

  it('refuses a missing manual login and a login the format would override', () => {
    expect(() => deriveLogin('manual', 'ana@contoso.com', undefined, 'P')).toThrow(/login: is required because provider "P"/);
    expect(() => deriveLogin('email', 'ana@contoso.com', 'ana', 'P')).toThrow(/login: only accepted when the provider's loginFormat is manual/);
  });
});
