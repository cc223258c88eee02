import { splitFieldErrors } from './field-errors';

describe('splitFieldErrors', () => {
  it("gives each field the API's message, keeping a message's own '; ' inside it", () => {
    expect(splitFieldErrors('email: must be an email address such as ana@contoso.com; folders: must contain at least 1 elements')).toEqual({
      byField: { email: 'must be an email address such as ana@contoso.com', folders: 'must contain at least 1 elements' },
      general: [],
    });
    expect(splitFieldErrors('providerId: no provider serves the domain nowhere.test; add the domain to a provider or pass providerId')).toEqual({
      byField: { providerId: 'no provider serves the domain nowhere.test; add the domain to a provider or pass providerId' },
      general: [],
    });
  });

  it('files a nested path under its top field and keeps a message without a field for the whole form', () => {
    expect(splitFieldErrors(['folders[1]: must not be null', 'Something else went wrong'])).toEqual({
      byField: { folders: 'must not be null' },
      general: ['Something else went wrong'],
    });
  });
});
