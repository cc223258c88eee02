import { createBodyOf, EMPTY_MAILBOX_FORM } from './mailbox-create.service';

describe("the Add mailbox form as the API's body", () => {
  it('leaves out empty optional inputs, takes one folder a line and the password as typed', () => {
    expect(createBodyOf({ ...EMPTY_MAILBOX_FORM, email: 'ana@contoso.com', password: ' pw with spaces ', folders: 'INBOX\r\n\r\n  Sales  \n', externalId: '  ' })).toEqual({
      email: 'ana@contoso.com',
      password: ' pw with spaces ',
      folders: ['INBOX', 'Sales'],
      enabled: true,
    });
  });

  it('sends an emptied folder list as empty, so the API says what is wrong with it', () => {
    expect(createBodyOf({ ...EMPTY_MAILBOX_FORM, folders: ' \n ', enabled: false })).toEqual({ folders: [], enabled: false });
  });
});
