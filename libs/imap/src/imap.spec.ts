import { OutboundAddressRefusedError, OutboundPolicy } from '@app/outbound';
import { imapFlowOptions } from './imap-endpoint';
import { classifyImapError } from './imap-errors';
import { receivedMessageOf } from './message-mapper';

describe('classifyImapError', () => {
  it.each([
    [{ authenticationFailed: true, responseText: 'Authentication failed.' }, 'auth'],
    [{ message: 'Command failed', serverResponseCode: 'AUTHENTICATIONFAILED' }, 'auth'],
    // A refused login that says "not now" is the server's trouble, not the password (as imapflow throws it).
    [{ message: 'Command failed', authenticationFailed: true, serverResponseCode: 'UNAVAILABLE', responseText: 'Temporary authentication failure.' }, 'network'],
    [{ message: 'Command failed', authenticationFailed: true, serverResponseCode: 'SERVERBUG', responseText: 'Internal error occurred.' }, 'network'],
    [{ message: 'Command failed', authenticationFailed: true, serverResponseCode: 'INUSE', responseText: 'Mailbox in use' }, 'network'],
    [{ message: 'Command failed', authenticationFailed: true, serverResponseCode: 'EXPIRED', responseText: 'Password expired' }, 'auth'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'network'],
    [Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'tls'],
    [Object.assign(new Error('Connection not available'), { code: 'NoConnection' }), 'network'],
    [{ message: 'Mailbox does not exist', serverResponseCode: 'NONEXISTENT' }, 'protocol'],
  ])('%j → %s', (error, kind) => expect(classifyImapError(error).kind).toBe(kind));
});

describe('classifyImapError and the outbound policy', () => {
  it('a refused address is its own kind, with the code and the sentence for a human', () => {
    const refusal = new OutboundAddressRefusedError('imap.evil.test', '127.0.0.1', 'loopback');
    expect(classifyImapError(refusal)).toEqual({ kind: 'refused', code: 'OUTBOUND_ADDRESS_REFUSED', message: refusal.message });
    expect(classifyImapError(Object.assign(new Error('wrapped'), { cause: refusal })).kind).toBe('refused');
  });
});

describe('receivedMessageOf', () => {
  it('maps the envelope, size and internal date', () => {
    const message = receivedMessageOf(
      {
        seq: 1,
        uid: 42,
        size: 1234,
        internalDate: new Date('2026-11-21T10:00:00Z'),
        envelope: {
          date: new Date('2026-11-21T09:59:00Z'),
          subject: 'Hello',
          messageId: '<abc@contoso.com>',
          from: [{ name: 'Ana', address: 'ana@contoso.com' }],
          to: [{ name: '', address: 'bo@contoso.com' }],
          cc: [],
        },
      } as never,
      'INBOX',
      1700000000,
    );
    expect(message).toEqual({
      folder: 'INBOX',
      uid: 42,
      uidValidity: 1700000000,
      providerMessageId: null,
      internetMessageId: '<abc@contoso.com>',
      subject: 'Hello',
      from: { name: 'Ana', address: 'ana@contoso.com' },
      to: [{ name: null, address: 'bo@contoso.com' }],
      cc: [],
      receivedAt: '2026-11-21T10:00:00.000Z',
      size: 1234,
    });
  });
});

describe('imapFlowOptions', () => {
  const endpoint = { host: 'imap.example.test', port: 993, secure: true, verifyCertificate: true };

  it('keeps an idle session lean: no COMPRESS (a zlib state per connection), no ENABLE round trip', () => {
    const options = imapFlowOptions(endpoint, { kind: 'password', login: 'ana', password: 'pw' });
    expect(options).toMatchObject({ disableCompression: true, disableAutoEnable: true, logger: false });
  });

  it('verifies the certificate as the provider says, and logs in with the token for OAuth mailboxes', () => {
    const options = imapFlowOptions({ ...endpoint, verifyCertificate: false }, { kind: 'oauth2', login: 'ana@example.test', accessToken: 'at' });
    expect(options.tls).toMatchObject({ rejectUnauthorized: false, minVersion: 'TLSv1.2' });
    expect(options.auth).toEqual({ user: 'ana@example.test', accessToken: 'at' });
  });

  it('hands the outbound policy\'s lookup to the socket in production only', () => {
    const production = new OutboundPolicy({ enforce: true, allowedNetworks: [] });
    expect(imapFlowOptions(endpoint, { kind: 'password', login: 'ana', password: 'pw' }, undefined, production).tls?.lookup).toBe(production.lookup);
    expect(imapFlowOptions(endpoint, { kind: 'password', login: 'ana', password: 'pw' }, undefined, OutboundPolicy.allowAll()).tls).not.toHaveProperty('lookup');
  });
});
