import { ConflictException, HttpStatus, ServiceUnavailableException } from '@nestjs/common';
import { FailureCode } from '@app/failures';
import { ClassifiedTokenError, classifyTokenError } from './token-errors';

export enum IdentityFailureCode {
  Unreachable = 'IDENTITY_PROVIDER_UNREACHABLE',
}

/**
 * The identity provider could not be reached or failed on its side (connection refused, DNS, TLS,
 * timeout, 5xx, 429, temporarily_unavailable). The request was fine and nothing was stored: a 503 tells
 * the CRM to try again, whichever OAuth operation it was (authorize, device code, import, app-only).
 */
export class IdentityProviderUnreachableException extends ServiceUnavailableException {
  static readonly status = HttpStatus.SERVICE_UNAVAILABLE;
  readonly code = IdentityFailureCode.Unreachable;

  constructor(readonly reason: string) {
    super(`The identity provider could not be reached (${reason}); nothing was stored, try again`);
  }
}

/** Whether a classified failure means "could not be reached" rather than "refused". */
export function isUnreachable(classified: ClassifiedTokenError): boolean {
  return classified.kind === 'transient';
}

/**
 * We did not call the identity provider at all: the outbound policy refused its address. Nothing is
 * wrong with the request, the provider's settings are (or OUTBOUND_ALLOWED_NETWORKS is): a 409 naming
 * the provider field, rather than a 400 saying the identity provider refused something.
 */
export class IdentityAddressRefusedException extends ConflictException {
  readonly code = FailureCode.OutboundAddressRefused;

  constructor(reason: string) {
    super(`oauth.authorityHost: the provider's identity address is refused by the outbound policy: ${reason}`);
  }
}

/**
 * The one mapping of a failed identity-provider call for API answers: transient failures throw
 * IdentityProviderUnreachableException, an address the outbound policy refused throws
 * IdentityAddressRefusedException; a refusal by the identity provider (permanent or configuration) is
 * returned so the caller can answer its own 4xx naming what was refused.
 */
export function refusalOrUnreachable(error: unknown): ClassifiedTokenError {
  const classified = classifyTokenError(error);
  if (isUnreachable(classified)) throw new IdentityProviderUnreachableException(classified.code);
  if (classified.code === FailureCode.OutboundAddressRefused) throw new IdentityAddressRefusedException(classified.message);
  return classified;
}
