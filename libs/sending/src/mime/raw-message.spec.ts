import { InvalidMessageException } from '../send-errors';
import { prepareRawMessage } from './raw-message';

const ID = '<new@contoso.com>';

describe('prepareRawMessage', () => {
  it('takes recipients from To, Cc and Bcc, takes Bcc out, adds From and Message-ID, keeps the rest byte for byte', () => {
    const body = Buffer.from('To: Ben <ben@contoso.com>, carla@contoso.com\r\nCc: dan@contoso.com\r\nBcc: eve@contoso.com,\r\n fay@contoso.com\r\nSubject: Hi\r\n\r\nbody\r\n');
    const prepared = prepareRawMessage(body, 'ana@contoso.com', ID);
    expect(prepared.envelope).toEqual({ from: 'ana@contoso.com', to: ['ben@contoso.com', 'carla@contoso.com', 'dan@contoso.com', 'eve@contoso.com', 'fay@contoso.com'] });
    expect(prepared.raw.toString()).toBe(`From: ana@contoso.com\r\nMessage-ID: ${ID}\r\nTo: Ben <ben@contoso.com>, carla@contoso.com\r\nCc: dan@contoso.com\r\nSubject: Hi\r\n\r\nbody\r\n`);
  });

  it("keeps the message's own Message-ID and a From that is the mailbox", () => {
    const prepared = prepareRawMessage(Buffer.from('From: Ana <ANA@contoso.com>\nMessage-ID: <own@x>\nTo: ben@contoso.com\n\nx'), 'ana@contoso.com', ID);
    expect(prepared.messageId).toBe('<own@x>');
    expect(prepared.raw.toString()).toBe('From: Ana <ANA@contoso.com>\nMessage-ID: <own@x>\nTo: ben@contoso.com\n\nx');
  });

  it.each([
    ['no header block end', 'To: ben@contoso.com', /header block/],
    ['no recipient', 'Subject: x\r\n\r\nx', /^to: at least one recipient/],
    ['another sender', 'From: eve@evil.example\r\nTo: ben@contoso.com\r\n\r\nx', /^From: must be the mailbox's own address/],
    ['a broken header line', 'To: ben@contoso.com\r\nnot a header\r\n\r\nx', /is not "Name: value"/],
  ])('refuses %s', (_label, text, message) => {
    expect(() => prepareRawMessage(Buffer.from(text), 'ana@contoso.com', ID)).toThrow(InvalidMessageException);
    expect(() => prepareRawMessage(Buffer.from(text), 'ana@contoso.com', ID)).toThrow(message);
  });
});
