import { createHmac } from 'node:crypto';
import { secretKey } from './webhook-secret';

/**
 * `webhook-signature` of the Standard Webhooks spec: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`
 * keyed with each secret's decoded bytes, space-separated when several secrets sign (a rotation's 24 h,
 * so a receiver holding either secret verifies). A secret is given as its text (`whsec_…`) or as its
 * decoded key (a delivering process decodes each endpoint's once, not per delivery).
 */
export function webhookSignature(id: string, timestampSeconds: number, body: string, secrets: readonly (string | Buffer)[]): string {
  const signed = `${id}.${timestampSeconds}.${body}`;
  return secrets.map((secret) => `v1,${createHmac('sha256', typeof secret === 'string' ? secretKey(secret) : secret).update(signed).digest('base64')}`).join(' ');
}
