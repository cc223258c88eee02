import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

/** Turns class-validator's tree into one line per field, named by its full path (`oauth.clientId: …`). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    const path = parent ? (/^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`) : error.property;
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      if (constraint === 'whitelistValidation') {
        lines.push(`${path}: unknown field`);
        continue;
      }
      // A rule over a whole list or map may name the item itself (`to[1].address: …`, `headers.X-Note: …`).
      if (message.startsWith(`${error.property}[`) || message.startsWith(`${error.property}.`)) {
        lines.push(parent ? `${parent}.${message}` : message);
        continue;
      }
      const trimmed = message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message;
      lines.push(`${path}: ${trimmed}`);
    }
    if (error.children?.length) lines.push(...flattenValidationErrors(error.children, path));
  }
  return lines;
}

/**
 * Strict input: unknown fields and wrong types are 400s naming the field; a body that is not a JSON
 * object (array, string, missing Content-Type) is a 400 too, never a 500.
 */
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new BadRequestException(flattenValidationErrors(errors).join('; ')),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw new BadRequestException('Request body must be a JSON object sent with Content-Type: application/json');
    }
    return super.transform(value, metadata);
  }
}
