import { Readable } from 'node:stream';
import { dispositionOf } from './content-response';
import { parseMime } from './mime-parse';

const CRLF = '\r\n';

describe('parseMime', () => {
  it('a single-part attachment message: the body is part 1; groups are flattened; bad dates are null', async () => {
    const raw = [
      'From: Team: a@x.test, "B" <b@x.test>;',
      'To: undisclosed-recipients:;',
      'Subject: report',
      'Date: not a date',
      'Content-Type: application/pdf; name="r.pdf"',
      'Content-Disposition: attachment; filename="r.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 tiny').toString('base64'),
      '',
    ].join(CRLF);
    const fields = await parseMime(Readable.from([Buffer.from(raw)]));
    expect(fields).toMatchObject({ subject: 'report', date: null, to: [], text: null, html: null, references: [] });
    expect(fields.from).toEqual({ name: null, address: 'a@x.test' });
    expect(fields.attachments).toEqual([{ id: '1', filename: 'r.pdf', contentType: 'application/pdf', size: 13, contentId: null, inline: false }]);
  });

  it('a source that fails midway rejects (never a partial parse)', async () => {
    const source = new Readable({ read() {} });
    const parsed = parseMime(source);
    source.push(Buffer.from(`Subject: x${CRLF}Content-Type: text/plain${CRLF}${CRLF}hello`));
    source.destroy(new Error('connection lost'));
    await expect(parsed).rejects.toThrow('connection lost');
  });
});

describe('dispositionOf', () => {
  const content = (filename: string | null, inline = false) => ({ content: Readable.from([]), contentType: 'x/y', size: null, filename, inline });

  it('RFC 6266: an ASCII fallback and RFC 5987 filename* for the rest; no header injection', () => {
    expect(dispositionOf(content('Bericht Ärger €.pdf'), 'f')).toBe(`attachment; filename="Bericht ?rger ?.pdf"; filename*=UTF-8''Bericht%20%C3%84rger%20%E2%82%AC.pdf`);
    expect(dispositionOf(content('a"b\r\nX-Evil: 1/..\\c.txt', true), 'f')).toBe('inline; filename="a_b__X-Evil: 1_.._c.txt"');
    expect(dispositionOf(content(null), 'attachment-2')).toBe('attachment; filename=attachment-2');
  });
});
