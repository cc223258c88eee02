import pino from 'pino';
import { Writable } from 'node:stream';
import { REDACT_PATHS } from './redaction';

describe('log redaction', () => {
  it('replaces secrets at the top level and nested, and the Authorization header', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    logger.info({ password: 'p1', dto: { clientSecret: 's1', oauth: { refreshToken: 'r1' } }, req: { headers: { authorization: 'Bearer k1' } } }, 'x');
    const output = lines.join('');
    for (const secret of ['p1', 's1', 'r1', 'k1']) expect(output).not.toContain(`"${secret}"`);
    expect(output).not.toContain('Bearer k1');
    expect(output.match(/\[redacted\]/g)).toHaveLength(4);
  });
});
