import { Webhook } from 'standardwebhooks';
import { newWebhookSecret } from './webhook-secret';
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
});
