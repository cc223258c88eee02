import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';

/** Machine-readable reasons of the typed webhook errors (stable for logs and tests). */
export enum WebhookErrorCode {
  NotFound = 'WEBHOOK_NOT_FOUND',
  UrlRefused = 'WEBHOOK_URL_REFUSED',
  DeliveryNotFound = 'WEBHOOK_DELIVERY_NOT_FOUND',
  DeliveryPending = 'WEBHOOK_DELIVERY_PENDING',
  Disabled = 'WEBHOOK_DISABLED',
}

export class WebhookNotFoundException extends NotFoundException {
  readonly code = WebhookErrorCode.NotFound;
  constructor(id: string) {
    super(`Webhook ${id} not found`);
  }
}

export class WebhookUrlRefusedException extends BadRequestException {
  readonly code = WebhookErrorCode.UrlRefused;
  constructor(problem: string) {
    super(`url: ${problem}`);
  }
}

export class DeliveryNotFoundException extends NotFoundException {
  readonly code = WebhookErrorCode.DeliveryNotFound;
  constructor(endpointId: string, eventId: string) {
    super(`No delivery of event ${eventId} to webhook ${endpointId} is retained (delivered ones are kept 24 h, failed ones 7 days)`);
  }
}

export class DeliveryPendingException extends ConflictException {
  readonly code = WebhookErrorCode.DeliveryPending;
  constructor(eventId: string, state: string) {
    super(`The delivery of event ${eventId} is ${state === 'active' ? 'being attempted now' : 'already waiting for its attempt'}`);
  }
}

export class WebhookDisabledException extends ConflictException {
  readonly code = WebhookErrorCode.Disabled;
  constructor(id: string) {
    super(`Webhook ${id} is disabled: enable it (PATCH {"enabled": true}) before asking for a delivery`);
  }
}
