import { OutboundAddressRefusedError, OutboundPolicy } from '@app/outbound';
import { smtpAttempt } from './smtp-attempt';

/** The outbound policy applies when connecting: an internal address is refused before any socket opens. */
describe('smtpAttempt and the outbound policy', () => {
  const enforced = new OutboundPolicy({ enforce: true, allowedNetworks: [], resolver: (_host, _options, callback) => callback(null, [{ address: '10.1.2.3', family: 4 }]) });
  const attempt = (host: string) =>
    smtpAttempt({
      settings: { host, port: 587, security: 'starttls' },
      verifyCertificate: true,
      login: { kind: 'password', user: 'ana', password: 'pw' },
      envelope: { from: 'ana@contoso.com', to: ['ben@contoso.com'] },
      raw: Buffer.from('x'),
      beforeHandOver: async () => true,
      timeoutMs: 1_000,
      outbound: enforced,
    });

  it('refuses a loopback IP literal', async () => {
    await expect(attempt('127.0.0.1')).rejects.toBeInstanceOf(OutboundAddressRefusedError);
  });

  it('refuses a name that resolves to a private address (judged on the resolved address)', async () => {
    await expect(attempt('smtp.internal.example')).rejects.toBeInstanceOf(OutboundAddressRefusedError);
  });
});
