import { Webhook } from 'standardwebhooks';
import { newWebhookSecret, secretKey } from './webhook-secret';
import { webhookSignature } from './webhook-signature';

describe('webhookSignature', () => {
  it('matches the Standard Webhooks reference implementation, one signature per secret, space-separated', () => {
    const [a, b] = [newWebhookSecret(), newWebhookSecret()];
    const body = JSON.stringify({ id: 'mail.received.x', type: 'mail.received' });
    const timestamp = Math.floor(Date.now() / 1000);
    const header = webhookSignature('mail.received.x', timestamp, body, [a, b]);
    expect(header.split(' ')).toEqual([new Webhook(a).sign('mail.received.x', new Date(timestamp * 1000), body), new Webhook(b).sign('mail.received.x', new Date(timestamp * 1000), body)]);
    for (const secret of [a, b]) {
      expect(new Webhook(secret).verify(body, { 'webhook-id': 'mail.received.x', 'webhook-timestamp': String(timestamp), 'webhook-signature': header })).toEqual(JSON.parse(body));
    }
  });

  it('signs the same with a decoded key as with the secret text', () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ id: 'mail.received.y', type: 'mail.received' });
    expect(webhookSignature('mail.received.y', 1_700_000_000, body, [secretKey(secret)])).toBe(new Webhook(secret).sign('mail.received.y', new Date(1_700_000_000_000), body));
  });
});
