import type { LookupAddress } from 'node:dns';
import { OutboundPolicy, outboundRefusalOf } from '@app/outbound';

/**
 * Why `url` cannot be a webhook endpoint, as the 400 at registration says it (prefixed by the field name),
 * or null. The same policy is applied again on every connection (the delivery's connector checks the
 * address it is about to use), so a name that resolves to an internal address later is refused then too.
 */
export async function webhookUrlProblem(url: string, policy: OutboundPolicy): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http(s) URL such as https://crm.example.com/hooks/mail';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return `must be an http(s) URL (not ${parsed.protocol.replace(/:$/, '')})`;
  if (parsed.username || parsed.password) return 'must not carry credentials (user:password@): authenticate the request by its webhook-signature';
  const plaintext = parsed.protocol === 'http:';
  try {
    policy.checkHost(parsed.hostname, { plaintext });
  } catch (error) {
    return refusal(error) ?? 'is refused by the outbound policy';
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const lookup = plaintext ? policy.plaintextLookup : policy.lookup;
  const outcome = await new Promise<{ error: NodeJS.ErrnoException | null; addresses: LookupAddress[] }>((resolve) =>
    lookup(host, { all: true }, (error, addresses) => resolve({ error, addresses: (addresses as unknown as LookupAddress[]) ?? [] })),
  );
  if (outcome.error) {
    const refused = refusal(outcome.error);
    if (refused) return refused;
    return `host ${parsed.hostname} does not resolve (${outcome.error.code ?? outcome.error.message})`;
  }
  return null;
}

function refusal(error: unknown): string | null {
  const refused = outboundRefusalOf(error);
  if (!refused) return null;
  if (refused.reason === 'plain http') return `must be https in production (plain http only to an address OUTBOUND_ALLOWED_NETWORKS lists): ${refused.message}`;
  return refused.message;
}
