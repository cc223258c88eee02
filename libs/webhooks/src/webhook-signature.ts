import { createHmac } from 'node:crypto';
import { secretKey } from './webhook-secret';

/**
 * `webhook-signature` of the Standard Webhooks spec: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`
 * keyed with each secret's decoded bytes, space-separated when several secrets sign (a rotation's 24 h,
 * so a receiver holding either secret verifies).
 */
export function webhookSignature(id: string, timestampSeconds: number, body: string, secrets: readonly string[]): string {
  return secrets.map((secret) => `v1,${createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`).join(' ');
}
