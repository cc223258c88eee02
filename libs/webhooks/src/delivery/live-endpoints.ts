import { SecretBox } from '@app/crypto';
import { secretContext } from '@app/persistence';
import { WebhookEndpointRow } from '../webhooks.repository';

/** An endpoint as a delivering process holds it: secrets opened once per change of the row. */
export interface LiveEndpoint {
  id: string;
  url: string;
  enabled: boolean;
  /** What the row said when it was opened: a change of any of it re-opens the endpoint. */
  fingerprint: string;
  secret: string;
  previousSecret: string | null;
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
    secret: box.decrypt(row.secretEncrypted, secretContext.webhookSecret(row.id)),
    previousSecret: row.previousSecretEncrypted ? box.decrypt(row.previousSecretEncrypted, secretContext.webhookPreviousSecret(row.id)) : null,
    previousSecretExpiresAt: row.previousSecretExpiresAt?.getTime() ?? null,
    failing: row.failingSince !== null,
  };
}

/** The secrets that sign at `now`: the current one, and the previous one during the 24 h after a rotation. */
export function signingSecrets(endpoint: LiveEndpoint, now: number): string[] {
  const previous = endpoint.previousSecret && endpoint.previousSecretExpiresAt !== null && now < endpoint.previousSecretExpiresAt ? [endpoint.previousSecret] : [];
  return [endpoint.secret, ...previous];
}

export function fingerprintOf(row: WebhookEndpointRow): string {
  return JSON.stringify([row.url, row.enabled, row.secretEncrypted, row.previousSecretEncrypted, row.previousSecretExpiresAt?.getTime() ?? null, row.updatedAt.getTime()]);
}
