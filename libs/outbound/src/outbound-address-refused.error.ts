import { FailureCode } from '@app/failures';
import type { AddressClass } from './address-classes';

/** Why the policy refused: an internal address, or plain text (http) to an address the allow list does not name. */
export type RefusalReason = AddressClass | 'plain http';

function example(address: string): string {
  return address.includes(':') ? `${address}/128` : `${address}/32`;
}

function messageOf(host: string, address: string, reason: RefusalReason): string {
  const target = host === address ? host : `${host} (${address})`;
  if (reason === 'not an IP address') return `Refused to connect to ${target}: the name did not resolve to an IP address`;
  if (reason === 'plain http') {
    return `Refused plain http to ${target}: in production identity and Graph endpoints need https, unless OUTBOUND_ALLOWED_NETWORKS lists the address (e.g. ${example(address)})`;
  }
  return (
    `Refused to connect to ${target}: ${reason} addresses are not reached in production; ` +
    `if this server is meant to be reached, add its network to OUTBOUND_ALLOWED_NETWORKS (e.g. ${example(address)})`
  );
}

/**
 * A connection the outbound policy refused (production only). Carries the host as configured and the
 * address it resolved to; the message says how to allow it, for the mailbox status and the logs.
 */
export class OutboundAddressRefusedError extends Error {
  readonly code = FailureCode.OutboundAddressRefused;

  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: RefusalReason,
  ) {
    super(messageOf(host, address, reason));
    this.name = 'OutboundAddressRefusedError';
  }
}

/** The refusal anywhere in an error's cause chain (fetch and msal wrap it), or null. */
export function outboundRefusalOf(error: unknown): OutboundAddressRefusedError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && typeof current === 'object' && current !== null; depth += 1) {
    if (current instanceof OutboundAddressRefusedError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}
