import { splitFieldErrors, topLevelField } from './field-errors';

describe('splitFieldErrors', () => {
  it("gives each field the API's message, keeping a message's own '; ' inside it", () => {
    expect(splitFieldErrors('email: must be an email address such as ana@contoso.com; folders: must contain at least 1 elements', topLevelField)).toEqual({
      byField: { email: ['must be an email address such as ana@contoso.com'], folders: ['must contain at least 1 elements'] },
      general: [],
    });
    expect(splitFieldErrors('providerId: no provider serves the domain nowhere.test; add the domain to a provider or pass providerId', topLevelField)).toEqual({
      byField: { providerId: ['no provider serves the domain nowhere.test; add the domain to a provider or pass providerId'] },
      general: [],
    });
  });

  it('files a nested path under its top field and keeps a message without a field for the whole form', () => {
    expect(splitFieldErrors(['folders[1]: must not be null', 'Something else went wrong'], topLevelField)).toEqual({
      byField: { folders: ['must not be null'] },
      general: ['Something else went wrong'],
    });
  });

  it('continues a field with a part naming none of the form\'s fields, and keeps several messages of one field apart', () => {
    const providerFields = (path: string) => (['domains', 'host'].includes(path) ? path : undefined);
    expect(splitFieldErrors('domains: a.com is taken; b.com: is taken too; host: must be a DNS name; host: is required', providerFields)).toEqual({
      byField: { domains: ['a.com is taken; b.com: is taken too'], host: ['must be a DNS name', 'is required'] },
      general: [],
    });
    expect(splitFieldErrors('mystery: what; host: is required', providerFields)).toEqual({ byField: { host: ['is required'] }, general: ['mystery: what'] });
  });
});
