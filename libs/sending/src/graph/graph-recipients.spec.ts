import { bccOf, mimeForGraph } from './graph-recipients';

describe('Bcc for Graph', () => {
  const raw = Buffer.from('From: ana@contoso.com\r\nTo: "Ben" <ben@contoso.com>,\r\n carla@fabrikam.com\r\nCc: Dan <DAN@contoso.com>\r\nSubject: x\r\n\r\nTo: not@header.example\r\n');

  it('the envelope recipients not in To/Cc are the Bcc; the stored bytes follow a Bcc header', () => {
    expect(bccOf(raw, ['ben@contoso.com', 'carla@fabrikam.com', 'dan@contoso.com', 'eve@contoso.com', 'not@header.example'])).toEqual(['eve@contoso.com', 'not@header.example']);
    expect(mimeForGraph(raw, []).equals(raw)).toBe(true);
    const withBcc = mimeForGraph(raw, ['eve@contoso.com']);
    expect(withBcc.subarray(0, 25).toString()).toBe('Bcc: eve@contoso.com\r\nFro');
    expect(withBcc.subarray(withBcc.length - raw.length).equals(raw)).toBe(true);
  });
});
