import { SecretBox } from '@app/crypto';
import { secretContext } from '@app/persistence';
import { WebhookEndpointRow } from '../webhooks.repository';
import { secretKey } from '../webhook-secret';

/** An endpoint as a delivering process holds it: secrets opened and decoded to HMAC keys once per change of the row, not per delivery. */
export interface LiveEndpoint {
  id: string;
  url: string;
  enabled: boolean;
  /** What the row said when it was opened: a change of any of it re-opens the endpoint. */
  fingerprint: string;
  /** The signing secret's HMAC key (its decoded bytes). */
  key: Buffer;
  previousKey: Buffer | null;
  previousSecretExpiresAt: number | null;
  /** A failing run is on (failing_since set): the next delivered attempt ends it. */
  failing: boolean;
}

export function openEndpoint(row: WebhookEndpointRow, box: SecretBox): LiveEndpoint {
  return {
    id: row.id,
    url: row.url,
    enabled: row.enabled,
    fingerprint: fingerprintOf(row),
    key: secretKey(box.decrypt(row.secretEncrypted, secretContext.webhookSecret(row.id))),
    previousKey: row.previousSecretEncrypted ? secretKey(box.decrypt(row.previousSecretEncrypted, secretContext.webhookPreviousSecret(row.id))) : null,
    previousSecretExpiresAt: row.previousSecretExpiresAt?.getTime() ?? null,
    failing: row.failingSince !== null,
  };
}

/** The keys that sign at `now`: the current secret's, and the previous one's during the 24 h after a rotation. */
export function signingKeys(endpoint: LiveEndpoint, now: number): Buffer[] {
  return endpoint.previousKey && endpoint.previousSecretExpiresAt !== null && now < endpoint.previousSecretExpiresAt ? [endpoint.key, endpoint.previousKey] : [endpoint.key];
}

export function fingerprintOf(row: WebhookEndpointRow): string {
  return JSON.stringify([row.url, row.enabled, row.secretEncrypted, row.previousSecretEncrypted, row.previousSecretExpiresAt?.getTime() ?? null, row.updatedAt.getTime()]);
}
