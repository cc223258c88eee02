import { OutboundAddressRefusedError } from '@app/outbound';
import { classifySmtpError, isAuthFailure } from './smtp-failure';

const smtpError = (fields: Record<string, unknown>) => Object.assign(new Error('x'), fields);

describe('classifySmtpError', () => {
  it('4xx is transient, 5xx permanent, both with the reply', () => {
    expect(classifySmtpError(smtpError({ code: 'EMESSAGE', responseCode: 451, response: '451 4.3.0 Try later', command: 'DATA' }), 'basic')).toEqual({
      kind: 'transient',
      code: 'SMTP_451',
      message: 'The server answered DATA with 451 4.3.0 Try later',
    });
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 No such user', command: 'RCPT TO' }), 'basic')).toMatchObject({
      kind: 'permanent',
      code: 'SMTP_550',
    });
  });

  it('a refused login says what to do', () => {
    const error = smtpError({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Error: authentication failed' });
    expect(classifySmtpError(error, 'basic')).toMatchObject({ kind: 'permanent', code: 'SMTP_AUTH_FAILED', message: expect.stringMatching(/535 5\.7\.8.*Check the password$/) });
    expect(classifySmtpError(error, 'oauth2').message).toMatch(/Sign in again/);
  });

  it('a login the server cannot check now (454) is transient, with the reply: not "Check the password", no token renewal', () => {
    const error = smtpError({ code: 'EAUTH', responseCode: 454, response: '454 4.7.0 Temporary authentication failure', command: 'AUTH PLAIN' });
    expect(isAuthFailure(error)).toBe(false);
    expect(classifySmtpError(error, 'basic')).toEqual({ kind: 'transient', code: 'SMTP_454', message: 'The server answered AUTH with 454 4.7.0 Temporary authentication failure' });
    expect(isAuthFailure(smtpError({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Error: authentication failed' }))).toBe(true);
  });

  it('no reply (reset, refused, timeout) is transient; certificate problems and the outbound policy are permanent', () => {
    expect(classifySmtpError(smtpError({ code: 'ECONNECTION', originalCode: 'ECONNREFUSED' }), 'basic')).toMatchObject({ kind: 'transient', code: 'SMTP_NETWORK' });
    expect(classifySmtpError(smtpError({ code: 'ETIMEDOUT' }), 'basic')).toMatchObject({ kind: 'transient', code: 'SMTP_NETWORK' });
    expect(classifySmtpError(smtpError({ code: 'ESOCKET', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'basic')).toMatchObject({ kind: 'permanent', code: 'SMTP_TLS' });
    expect(classifySmtpError(new OutboundAddressRefusedError('10.0.0.1', '10.0.0.1', 'private'), 'basic')).toMatchObject({ kind: 'permanent', code: 'OUTBOUND_ADDRESS_REFUSED' });
  });
});
